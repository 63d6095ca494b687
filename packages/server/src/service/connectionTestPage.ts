/**
 * The connection-test page served at `/connection-test`: the browser-side twin of `convene doctor`.
 * Plain browser APIs only (WebSocket, fetch, RTCPeerConnection, a canvas stream), so it works even
 * when the SDK bundle is missing. A token comes from `?token=…&session=…` (your app can link here),
 * else from a dev-mode server's /dev/token. Results are shown one line per check and kept in
 * `window.conveneConnectionTest` (`{ done, ok, results }`) for automation.
 */
export function connectionTestPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Convene connection test</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1c1c1c; }
  h1 { font-size: 1.4rem; }
  #checks { font-family: ui-monospace, monospace; font-size: 13px; white-space: pre-wrap; }
  .ok { color: #0a7d32; } .fail { color: #b3261e; font-weight: 600; } .warn { color: #9a6400; } .skip { color: #666; }
  .fix { color: #444; margin-left: 6ch; }
  #summary { margin-top: 1rem; font-weight: 600; }
</style>
</head>
<body>
<h1>Convene connection test</h1>
<p>Checks that calls to this server will connect from this browser and network: signaling, round-trip time,
bandwidth, media over UDP through the server, and each TURN server the server hands out.</p>
<div id="checks"></div>
<div id="summary">Running…</div>
<script>
(() => {
  const state = (window.conveneConnectionTest = { done: false, ok: false, results: [] });
  const box = document.getElementById('checks');
  const params = new URLSearchParams(location.search);
  const timeoutMs = Number(params.get('timeout') || 10000);
  const report = (r) => {
    state.results.push(r);
    const line = document.createElement('div');
    const tag = { ok: 'ok  ', fail: 'FAIL', warn: 'warn', skip: 'skip' }[r.status];
    line.className = r.status;
    line.textContent = tag + '  ' + r.name.padEnd(26) + ' ' + r.detail;
    box.appendChild(line);
    if (r.fix && r.status !== 'ok') {
      const fix = document.createElement('div');
      fix.className = 'fix';
      fix.textContent = '→ ' + r.fix;
      box.appendChild(fix);
    }
  };
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const withTimeout = (p, ms, what) => Promise.race([p, sleep(ms).then(() => { throw new Error(what); })]);

  // Signaling: a raw WebSocket speaking the Convene protocol.
  const wsUrl = location.origin.replace(/^http/, 'ws') + '/v1/ws';
  let ws, nextId = 1;
  const waiting = new Map();
  const pongs = [];
  const request = (type, fields) => withTimeout(new Promise((resolve) => {
    const id = nextId++;
    waiting.set(id, resolve);
    ws.send(JSON.stringify(Object.assign({ v: 1, id, type }, fields)));
  }), timeoutMs, 'no answer to ' + type);
  const ping = () => withTimeout(new Promise((resolve) => {
    const t0 = performance.now();
    pongs.push(() => resolve(performance.now() - t0));
    ws.send('{"v":1,"type":"ping"}');
  }), timeoutMs, 'no pong');

  async function openSocket() {
    ws = new WebSocket(wsUrl);
    const hello = new Promise((resolve, reject) => {
      ws.onerror = () => reject(new Error('the WebSocket could not be opened'));
      ws.onclose = (e) => reject(new Error('closed (' + e.code + ') before hello'));
      ws.onmessage = (m) => {
        const f = JSON.parse(m.data);
        if (f.type === 'hello') resolve(f);
        else if (f.type === 'pong') { const p = pongs.shift(); if (p) p(); }
        if (typeof f.q === 'number') ws.send(JSON.stringify({ v: 1, type: 'ack', seq: f.q }));
        if ((f.type === 'ok' || f.type === 'error') && waiting.has(f.id)) { waiting.get(f.id)(f); waiting.delete(f.id); }
      };
    });
    return withTimeout(hello, timeoutMs, 'no hello within ' + timeoutMs + ' ms');
  }

  async function token() {
    if (params.get('token') && params.get('session')) return { token: params.get('token'), sessionId: params.get('session') };
    const sessionId = 'connection-test-' + Math.random().toString(16).slice(2, 10);
    const r = await fetch('/dev/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sessionName: sessionId, userName: 'connection test', role: 'publisher' }) });
    if (!r.ok) throw new Error('no token: open this page with ?token=…&session=… (the server is not in dev mode)');
    return { token: (await r.json()).token, sessionId };
  }

  const waitState = (pc, ms) => new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('ICE/DTLS did not connect in ' + ms + ' ms (' + pc.connectionState + ')')), ms);
    const check = () => {
      if (pc.connectionState === 'connected') { clearTimeout(t); resolve(); }
      else if (pc.connectionState === 'failed' || pc.connectionState === 'closed') { clearTimeout(t); reject(new Error('ICE/DTLS ' + pc.connectionState)); }
    };
    pc.addEventListener('connectionstatechange', check);
    check();
  });

  async function selectedPair(pc) {
    const stats = await pc.getStats();
    let pair = null;
    stats.forEach((s) => { if (s.type === 'transport' && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId); });
    if (!pair) stats.forEach((s) => { if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pair = s; });
    if (!pair) return null;
    const l = stats.get(pair.localCandidateId), r = stats.get(pair.remoteCandidateId);
    return { local: l, remote: r, text: (l ? l.candidateType + ' ' + (l.relayProtocol ? l.relayProtocol + ' ' : '') + l.address + ':' + l.port : '?') + ' → ' + (r ? r.address + ':' + r.port : '?') };
  }

  // Publish a canvas stream, subscribe to it, and count what comes back through the SFU.
  async function mediaCheck(config) {
    const t0 = performance.now();
    const canvas = document.createElement('canvas');
    canvas.width = 320; canvas.height = 240;
    const ctx = canvas.getContext('2d');
    let frame = 0;
    const draw = setInterval(() => { ctx.fillStyle = '#' + ((frame++ * 2654435761) >>> 8 & 0xffffff).toString(16).padStart(6, '0'); ctx.fillRect(0, 0, 320, 240); }, 66);
    const stream = canvas.captureStream(15);
    const pub = new RTCPeerConnection(config), sub = new RTCPeerConnection(config);
    let announced = [];
    try {
      pub.addTransceiver(stream.getVideoTracks()[0], { direction: 'sendonly', streams: [stream] });
      await pub.setLocalDescription(await pub.createOffer());
      const r = await request('publish', { sdp: pub.localDescription.sdp, name: 'connection test' });
      if (r.type !== 'ok') throw new Error('publish refused: ' + r.error.message);
      // Foundations starting with p are the SFU's tiebreaker proxy (only TURN servers need to reach it).
      announced = [...r.result.sdp.matchAll(/a=candidate:(\\S+) \\d+ udp \\d+ (\\S+) (\\d+) typ/gi)].filter((m) => !m[1].startsWith('p')).map((m) => m[2] + ':' + m[3]);
      await pub.setRemoteDescription({ type: 'answer', sdp: r.result.sdp });
      await waitState(pub, timeoutMs);
      const ms = Math.round(performance.now() - t0);
      const pair = await selectedPair(pub);
      sub.addTransceiver('video', { direction: 'recvonly' });
      await sub.setLocalDescription(await sub.createOffer());
      const s = await request('subscribe', { streamId: r.result.stream.streamId, sdp: sub.localDescription.sdp });
      if (s.type !== 'ok') throw new Error('subscribe refused: ' + s.error.message);
      await sub.setRemoteDescription({ type: 'answer', sdp: s.result.sdp });
      await waitState(sub, timeoutMs);
      let packets = 0;
      const end = Date.now() + timeoutMs;
      while (Date.now() < end && packets < 20) {
        (await sub.getStats()).forEach((x) => { if (x.type === 'inbound-rtp') packets = x.packetsReceived; });
        await sleep(100);
      }
      await request('unpublish', { streamId: r.result.stream.streamId }).catch(() => {});
      return { ok: packets > 0, ms, packets, announced, pair, error: packets > 0 ? '' : 'connected, but no media came back through the SFU' };
    } catch (err) {
      return { ok: false, ms: 0, packets: 0, announced, pair: null, error: err.message };
    } finally {
      clearInterval(draw);
      stream.getTracks().forEach((t) => t.stop());
      pub.close(); sub.close();
    }
  }

  // A relay candidate from one TURN URL = an allocation that works over that transport.
  function turnAllocation(server, url) {
    return new Promise((resolve) => {
      const pc = new RTCPeerConnection({ iceServers: [{ urls: url, username: server.username, credential: server.credential }], iceTransportPolicy: 'relay' });
      const t0 = performance.now();
      let error = null;
      const done = (r) => { clearTimeout(t); pc.close(); resolve(r); };
      const t = setTimeout(() => done({ ok: false, reason: error || 'timeout' }), Math.min(timeoutMs, 8000));
      pc.onicecandidateerror = (e) => { error = e.errorCode + ' ' + (e.errorText || ''); if (e.errorCode === 401) done({ ok: false, reason: 'credentials refused (401)' }); };
      pc.onicecandidate = (e) => {
        if (e.candidate && / typ relay /.test(e.candidate.candidate)) done({ ok: true, ms: Math.round(performance.now() - t0), relayed: e.candidate.address + ':' + e.candidate.port });
        else if (!e.candidate) done({ ok: false, reason: error || 'no relay candidate' });
      };
      pc.createDataChannel('probe');
      pc.createOffer().then((o) => pc.setLocalDescription(o));
    });
  }

  async function run() {
    const t0 = performance.now();
    try {
      const hello = await openSocket();
      report({ id: 'websocket', name: 'WebSocket signaling', status: 'ok', required: true, detail: wsUrl + ' answered in ' + Math.round(performance.now() - t0) + ' ms (server ' + hello.serverVersion + ')' });
    } catch (err) {
      report({ id: 'websocket', name: 'WebSocket signaling', status: 'fail', required: true, detail: wsUrl + ': ' + err.message, fix: 'A firewall or proxy blocks WebSockets to this server: allow WebSocket upgrades on /v1/ws (Upgrade and Connection headers on a reverse proxy).' });
      return;
    }
    const rtts = [];
    for (let i = 0; i < 5; i++) rtts.push(await ping().catch(() => NaN));
    const good = rtts.filter(Number.isFinite).sort((a, b) => a - b);
    report(good.length ? { id: 'rtt', name: 'Round-trip time', status: 'ok', required: false, detail: good[Math.floor(good.length / 2)].toFixed(1) + ' ms (median of ' + good.length + ' pings)' }
      : { id: 'rtt', name: 'Round-trip time', status: 'fail', required: false, detail: 'no ping was answered', fix: 'Something on the way drops WebSocket frames: check proxies and their idle timeouts.' });
    for (const dir of ['download', 'upload']) {
      const size = 2 * 1024 * 1024, t = performance.now();
      try {
        const r = dir === 'download' ? await fetch('/v1/nettest?bytes=' + size, { cache: 'no-store' }) : await fetch('/v1/nettest', { method: 'POST', body: new Uint8Array(size).map(() => Math.random() * 256) });
        if (r.status === 404) { report({ id: dir, name: dir === 'download' ? 'Download bandwidth' : 'Upload bandwidth', status: 'skip', required: false, detail: 'this server has no /v1/nettest' }); continue; }
        await r.arrayBuffer();
        const s = (performance.now() - t) / 1000;
        report({ id: dir, name: dir === 'download' ? 'Download bandwidth' : 'Upload bandwidth', status: 'ok', required: false, detail: ((size * 8) / s / 1e6).toFixed(1) + ' Mbit/s' });
      } catch (err) {
        report({ id: dir, name: dir === 'download' ? 'Download bandwidth' : 'Upload bandwidth', status: 'fail', required: false, detail: err.message, fix: 'HTTP transfers to this server stall: check proxies on the way.' });
      }
    }
    let joined;
    try {
      const t = await token();
      const r = await request('connect', { sessionId: t.sessionId, token: t.token, userName: 'connection test', sdk: 'connection-test' });
      if (r.type !== 'ok') throw new Error(r.error.name + ': ' + r.error.message);
      joined = r.result;
      const ice = joined.iceServers || [];
      report({ id: 'join', name: 'Join a session', status: 'ok', required: true, detail: 'joined; the server hands out ' + ice.length + ' ICE server(s)' });
    } catch (err) {
      report({ id: 'join', name: 'Join a session', status: 'fail', required: true, detail: err.message, fix: 'Open this page from your app with ?token=<client token>&session=<session id>.' });
      return;
    }
    const iceServers = joined.iceServers || [];
    const turnUrls = [];
    for (const s of iceServers) for (const url of [].concat(s.urls)) if (/^turns?:/.test(url)) turnUrls.push({ server: s, url });
    for (const { server, url } of turnUrls) {
      const r = await turnAllocation(server, url);
      const transport = url.startsWith('turns:') ? 'TLS' : /transport=tcp/.test(url) ? 'TCP' : 'UDP';
      const hostPort = url.replace(/^turns?:/, '').replace(/\\?.*$/, '');
      report(r.ok ? { id: 'ice:' + url, name: 'TURN ' + transport + ' ' + hostPort, status: 'ok', required: true, detail: 'allocated relay ' + r.relayed + ' in ' + r.ms + ' ms' }
        : { id: 'ice:' + url, name: 'TURN ' + transport + ' ' + hostPort, status: 'fail', required: true, detail: r.reason,
            fix: /401/.test(r.reason) ? "The TURN server refused the credentials: make the server's --turn-secret match coturn's static-auth-secret." : transport + ' to ' + hostPort + ' is blocked from this network, or the TURN server is down: open it, or offer TURN on another transport (turns: on port 443 gets through most firewalls).' });
    }
    const direct = await mediaCheck({ iceServers: [] });
    const relay = iceServers.length ? await mediaCheck({ iceServers, iceTransportPolicy: 'relay' }) : null;
    const any = direct.ok || (relay && relay.ok);
    report(direct.ok ? { id: 'media-udp', name: 'Media over UDP', status: 'ok', required: true, detail: 'ICE+DTLS in ' + direct.ms + ' ms (' + (direct.pair ? direct.pair.text : '') + '); ' + direct.packets + ' packets came back through the SFU' }
      : { id: 'media-udp', name: 'Media over UDP', status: any ? 'warn' : 'fail', required: !any, detail: direct.error + ' (the server announced ' + (direct.announced.join(', ') || '?') + ')',
          fix: 'UDP from here to the server\\'s media port does not get through. ' + (any ? 'Calls still connect through TURN (slower). ' : '') + 'Server side: open/forward its UDP media port and set --announced-ip when it is behind NAT; this network may block UDP.' });
    if (relay) report(relay.ok ? { id: 'media-relay', name: 'Media through TURN', status: 'ok', required: !direct.ok, detail: 'relay-only ICE+DTLS in ' + relay.ms + ' ms (' + (relay.pair ? relay.pair.text : '') + '); ' + relay.packets + ' packets came back' }
      : { id: 'media-relay', name: 'Media through TURN', status: direct.ok ? 'warn' : 'fail', required: !direct.ok, detail: relay.error, fix: 'No TURN server carried media to the SFU: check that TURN can reach the server\\'s UDP media port and that its credentials match.' });
  }

  run().catch((err) => report({ id: 'error', name: 'Connection test', status: 'fail', required: true, detail: String(err && err.message || err) })).finally(() => {
    state.ok = !state.results.some((r) => r.required && r.status === 'fail');
    state.done = true;
    if (ws) ws.close();
    const failed = state.results.filter((r) => r.required && r.status === 'fail').length;
    document.getElementById('summary').textContent = state.ok ? 'All required checks passed.' : failed + ' required check(s) failed.';
  });
})();
</script>
</body>
</html>
`;
}
