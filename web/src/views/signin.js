import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { api } from '../api.js';
import { ErrorBox } from '../ui.js';
import { setServerNow } from '../fmt.js';

export function SigninView({ onSignedIn }) {
    const [token, setToken] = useState('');
    const [busy, setBusy] = useState(false);
    const [error, setError] = useState(null);
    const submit = async e => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        try {
            const s = await api('/v1/session', { method: 'POST', body: { token: token.trim() } });
            setToken('');
            setServerNow(s.now_ms);
            onSignedIn(s);
        } catch (err) {
            setError(err.status === 401 ? `${err.message} (the token is unknown, revoked or mistyped)` : err);
        } finally {
            setBusy(false);
        }
    };
    return html`<main><div class="panel signin" data-view="signin">
        <h1>oncue</h1>
        <p class="dim">Sign in with an API token (<code>oncue token create --role responder --name you</code>).
            The console keeps a session cookie; the token is not stored in the browser.</p>
        <form data-signin onSubmit=${submit}>
            <label class="field" for="signin-token">API token
                <input id="signin-token" name="token" type="password" autocomplete="current-password" 
                    value=${token} onInput=${e => setToken(e.currentTarget.value)} autofocus /></label>
            <${ErrorBox} error=${error} />
            <button type="submit" class="primary" disabled=${busy}>${busy ? 'Signing in…' : 'Sign in'}</button>
        </form>
        <p class="dim">Public status: <a href="/status">/status</a></p>
    </div></main>`;
}
