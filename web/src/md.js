// A small Markdown renderer for post-incident reviews: headings, paragraphs, lists (with task
// boxes), pipe tables, fenced code, `code`, **bold** and http(s) links. It builds vnodes,
// never HTML strings, so whatever the text holds is shown as text.
import { html } from './html.js';

function inline(s) {
    const out = [];
    const re = /`([^`]+)`|\*\*([^*]+)\*\*|\[([^\]]+)\]\(([^)\s]+)\)/g;
    let last = 0;
    let m;
    while ((m = re.exec(s))) {
        if (m.index > last) out.push(s.slice(last, m.index));
        if (m[1] != null) out.push(html`<code>${m[1]}</code>`);
        else if (m[2] != null) out.push(html`<strong>${m[2]}</strong>`);
        else {
            out.push(/^https?:\/\//i.test(m[4])
                ? html`<a href=${m[4]} rel="noopener noreferrer" target="_blank">${m[3]}</a>`
                : `${m[3]} (${m[4]})`);
        }
        last = re.lastIndex;
    }
    if (last < s.length) out.push(s.slice(last));
    return out;
}

const cells = line => line.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map(c => c.trim());

export function Markdown({ text }) {
    const lines = String(text || '').replace(/\r\n?/g, '\n').split('\n');
    const blocks = [];
    let i = 0;
    while (i < lines.length) {
        const line = lines[i];
        if (/^```/.test(line)) {
            const body = [];
            for (i++; i < lines.length && !/^```/.test(lines[i]); i++) body.push(lines[i]);
            i++;
            blocks.push(html`<pre><code>${body.join('\n')}</code></pre>`);
            continue;
        }
        const hm = /^(#{1,6})\s+(.*)$/.exec(line);
        if (hm) {
            const level = Math.min(hm[1].length + 1, 6);
            const Tag = 'h' + level;
            blocks.push(html`<${Tag}>${inline(hm[2])}</${Tag}>`);
            i++;
            continue;
        }
        if (/^\s*\|/.test(line) && i + 1 < lines.length && /^\s*\|?\s*:?-{2,}/.test(lines[i + 1])) {
            const head = cells(line);
            const rows = [];
            for (i += 2; i < lines.length && /^\s*\|/.test(lines[i]); i++) rows.push(cells(lines[i]));
            blocks.push(html`<table><thead><tr>${head.map(c => html`<th>${inline(c)}</th>`)}</tr></thead>
                <tbody>${rows.map(r => html`<tr>${r.map(c => html`<td>${inline(c)}</td>`)}</tr>`)}</tbody></table>`);
            continue;
        }
        if (/^\s*([-*]|\d+\.)\s+/.test(line)) {
            const ordered = /^\s*\d+\./.test(line);
            const items = [];
            for (; i < lines.length && /^\s*([-*]|\d+\.)\s+/.test(lines[i]); i++) {
                let t = lines[i].replace(/^\s*([-*]|\d+\.)\s+/, '');
                const task = /^\[([ xX])\]\s+/.exec(t);
                if (task) t = t.slice(task[0].length);
                items.push(html`<li>${task ? html`<input type="checkbox" disabled checked=${task[1] !== ' '} aria-label="done" /> ` : null}${inline(t)}</li>`);
            }
            blocks.push(ordered ? html`<ol>${items}</ol>` : html`<ul>${items}</ul>`);
            continue;
        }
        if (!line.trim()) { i++; continue; }
        const para = [];
        for (; i < lines.length && lines[i].trim() && !/^(#{1,6}\s|```|\s*([-*]|\d+\.)\s|\s*\|)/.test(lines[i]); i++) para.push(lines[i]);
        if (!para.length) { para.push(line); i++; }
        blocks.push(html`<p>${inline(para.join(' '))}</p>`);
    }
    return html`<div class="md">${blocks}</div>`;
}
