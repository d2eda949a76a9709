// receiver.mjs PORTFILE LOG SECRET_NEW SECRET_OLD - a notification receiver on 127.0.0.1 that
// checks each body with the vendors' own client libraries and appends one JSON line per
// request to LOG:
//   /teams   the Adaptive Card parsed by Microsoft's `adaptivecards` (unknown element types,
//            properties or actions are reported by its SerializationContext; validateProperties
//            reports missing or wrong values)
//   /hook    the Standard Webhooks signature verified by `standardwebhooks` with each of the
//            two secrets of a key rotation, separately
//   /slack, /pd  recorded as received (Block Kit and PagerDuty shapes are asserted by the test)
import { createRequire } from 'node:module';
import { appendFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';

const require = createRequire(import.meta.url);
const AC = require('adaptivecards/dist/adaptivecards.js'); // lib/ is not loadable by Node's ESM
const { Webhook } = require('standardwebhooks');

const [portFile, log, secretNew, secretOld] = process.argv.slice(2);

function checkTeams(msg) {
    const att = (msg.attachments || [])[0] || {};
    const card = new AC.AdaptiveCard();
    const ctx = new AC.SerializationContext();
    card.parse(att.content, ctx);
    const events = [];
    for (let i = 0; i < ctx.eventCount; i++) events.push(ctx.getEventAt(i).message);
    const v = card.validateProperties();
    return {
        type: msg.type,
        contentType: att.contentType,
        version: card.version ? card.version.toString() : null,
        items: card.getItemCount(),
        actions: card.getActionCount(),
        parse_events: events,
        validation: v.validationEvents.map(e => e.message),
    };
}

function checkHook(body, headers) {
    const verify = secret => {
        try {
            new Webhook(secret).verify(body, headers);
            return 'valid';
        } catch (e) {
            return 'invalid: ' + e.message;
        }
    };
    return { new_secret: verify(secretNew), old_secret: verify(secretOld),
             signatures: (headers['webhook-signature'] || '').split(' ').length };
}

const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', c => chunks.push(c));
    req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const rec = { path: req.url };
        try {
            const msg = JSON.parse(body);
            rec.body = msg;
            if (req.url === '/teams') rec.check = checkTeams(msg);
            if (req.url === '/hook') rec.check = checkHook(body, req.headers);
        } catch (e) {
            rec.error = String(e);
        }
        appendFileSync(log, JSON.stringify(rec) + '\n');
        res.writeHead(200, { 'Content-Length': 0 });
        res.end();
    });
});
server.listen(0, '127.0.0.1', () => writeFileSync(portFile, String(server.address().port)));
