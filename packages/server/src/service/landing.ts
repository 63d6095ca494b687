import { SIGNALING_PATH } from '@convene/protocol';

/** The landing page served at `/` until the web app replaces it. */
export function landingPage(version: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Convene</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem;color:#222}code,pre{background:#f3f3f3;border-radius:4px;padding:.1rem .3rem}pre{padding:.8rem;overflow:auto}</style>
</head>
<body>
<h1>Convene</h1>
<p>This Convene server (v${version}) is running. Connect with the client SDK, using a token signed with this server's API key and secret:</p>
<pre>import { initSession } from '@convene/client';
const session = initSession(apiKey, 'my session', { serverUrl: location.origin });
session.connect(token, (err) =&gt; { /* connected */ });</pre>
<p>Create tokens with <code>@convene/server-sdk</code> or <code>convene token --session NAME</code>.
Signaling WebSocket: <code>${SIGNALING_PATH}</code>. REST API: <code>/v1/sessions</code>. Health: <code>/healthz</code>. Metrics: <code>/metrics</code>.</p>
</body>
</html>
`;
}
