// Headless Chromium inside a network namespace publishes a canvas video to a Convene server and subscribes to
// it again, both peer connections relay-only through the TURN URLs the server hands out that match a filter,
// and prints one JSON line: time to connected (offer to 'connected', signaling included), the selected
// candidate pairs, and two stats samples taken 1.5 s apart.
//   ip netns exec <ns> node netnsRelayPage.mjs <server url> <session> <token> <turn url regexp>
// Raw protocol over a WebSocket, like /connection-test, so that only the server and the browser are involved.
import { chromium } from 'playwright-core';

const [serverUrl, session, token, turnFilter] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-quic', ...(process.env.CHROMIUM_EXTRA_ARGS ?? '').split(' ').filter(Boolean)],
});
try {
  const page = await browser.newPage();
  const result = await page.evaluate(
    async ({ serverUrl, session, token, turnFilter }) => {
      const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
      const within = (p, ms, what) => Promise.race([p, sleep(ms).then(() => { throw new Error('timed out: ' + what); })]);
      const ws = new WebSocket(serverUrl.replace(/^http/, 'ws') + '/v1/ws');
      const waiting = new Map();
      let nextId = 1;
      const hello = new Promise((resolve, reject) => {
        ws.onerror = () => reject(new Error('WebSocket error'));
        ws.onmessage = (m) => {
          const f = JSON.parse(m.data);
          if (f.type === 'hello') resolve(f);
          if (typeof f.q === 'number') ws.send(JSON.stringify({ v: 1, type: 'ack', seq: f.q }));
          if ((f.type === 'ok' || f.type === 'error') && waiting.has(f.id)) { waiting.get(f.id)(f); waiting.delete(f.id); }
        };
      });
      await within(hello, 5000, 'hello');
      const request = async (type, fields) => {
        const id = nextId++;
        const r = await within(new Promise((resolve) => { waiting.set(id, resolve); ws.send(JSON.stringify({ v: 1, id, type, ...fields })); }), 10000, type);
        if (r.type !== 'ok') throw new Error(type + ' refused: ' + JSON.stringify(r.error));
        return r.result;
      };
      const joined = await request('connect', { sessionId: session, token, userName: 'relay page', sdk: 'netns-relay-page' });
      const re = new RegExp(turnFilter);
      const iceServers = (joined.iceServers || [])
        .map((s) => ({ ...s, urls: [].concat(s.urls).filter((u) => re.test(u)) }))
        .filter((s) => s.urls.length > 0);
      const config = { iceServers, iceTransportPolicy: 'relay' };
      const connected = (pc) => within(new Promise((resolve, reject) => {
        const check = () => {
          if (pc.connectionState === 'connected') resolve();
          else if (pc.connectionState === 'failed') reject(new Error('connection failed'));
        };
        pc.addEventListener('connectionstatechange', check);
        check();
      }), 20000, 'connected');
      const pair = async (pc) => {
        const stats = await pc.getStats();
        let out = null;
        stats.forEach((s) => {
          if (s.type !== 'transport' || !s.selectedCandidatePairId) return;
          const p = stats.get(s.selectedCandidatePairId);
          const l = stats.get(p.localCandidateId), r = stats.get(p.remoteCandidateId);
          out = { localType: l.candidateType, relayProtocol: l.relayProtocol ?? null, local: l.address + ':' + l.port, remote: r.address + ':' + r.port };
        });
        return out;
      };
      const canvas = document.createElement('canvas');
      canvas.width = 320; canvas.height = 240;
      const ctx = canvas.getContext('2d');
      let frame = 0;
      setInterval(() => { ctx.fillStyle = '#' + ((frame++ * 2654435761) >>> 8 & 0xffffff).toString(16).padStart(6, '0'); ctx.fillRect(0, 0, 320, 240); }, 66);
      const stream = canvas.captureStream(15);
      const t0 = performance.now();
      const pub = new RTCPeerConnection(config);
      pub.addTransceiver(stream.getVideoTracks()[0], { direction: 'sendonly', streams: [stream] });
      await pub.setLocalDescription(await pub.createOffer());
      const published = await request('publish', { sdp: pub.localDescription.sdp, name: 'relay page' });
      await pub.setRemoteDescription({ type: 'answer', sdp: published.sdp });
      await connected(pub);
      const pubConnectMs = Math.round(performance.now() - t0);
      const t1 = performance.now();
      const sub = new RTCPeerConnection(config);
      sub.addTransceiver('video', { direction: 'recvonly' });
      await sub.setLocalDescription(await sub.createOffer());
      const subscribed = await request('subscribe', { streamId: published.stream.streamId, sdp: sub.localDescription.sdp });
      await sub.setRemoteDescription({ type: 'answer', sdp: subscribed.sdp });
      await connected(sub);
      const subConnectMs = Math.round(performance.now() - t1);
      const sample = async () => {
        const s = { bytesSent: 0, bytesReceived: 0, framesDecoded: 0 };
        (await pub.getStats()).forEach((x) => { if (x.type === 'outbound-rtp') s.bytesSent += x.bytesSent; });
        (await sub.getStats()).forEach((x) => { if (x.type === 'inbound-rtp') { s.bytesReceived += x.bytesReceived; s.framesDecoded += x.framesDecoded ?? 0; } });
        return s;
      };
      const end = Date.now() + 10000;
      let first = await sample();
      while (first.framesDecoded === 0 && Date.now() < end) { await sleep(200); first = await sample(); }
      await sleep(1500);
      const second = await sample();
      return { iceServers: iceServers.flatMap((s) => s.urls), pubConnectMs, subConnectMs, pubPair: await pair(pub), subPair: await pair(sub), first, second };
    },
    { serverUrl, session, token, turnFilter },
  );
  process.stdout.write(JSON.stringify(result) + '\n');
} finally {
  await browser.close();
}
