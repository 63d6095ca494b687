// A media bot for the network-namespace tests, run as its own process inside a namespace
// (`ip netns exec <ns> node netnsBot.mjs ...`): joins over the raw signaling protocol, then publishes
// synthetic VP8/Opus or subscribes to the first stream, with the ICE servers the server handed out and
// the given transport policy. Writes JSON lines: joined, answer, connected, stats (every 500 ms), error.
import { parseArgs } from 'node:util';
import { createHmac } from 'node:crypto';
import { WebSocket } from 'ws';
import { NodePeerConnection } from '@convene/client/node';

const { values: o } = parseArgs({
  options: {
    url: { type: 'string' },
    key: { type: 'string' },
    secret: { type: 'string' },
    session: { type: 'string' },
    role: { type: 'string' }, // pub | sub
    policy: { type: 'string', default: 'all' },
    'no-ice-servers': { type: 'boolean', default: false },
    seconds: { type: 'string', default: '20' },
  },
});
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

function b64url(buf) {
  return Buffer.from(buf).toString('base64url');
}
function token() {
  const now = Math.floor(Date.now() / 1000);
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify({ iss: o.key, tpc: o.session, role: 'publisher', iat: now, exp: now + 600 }));
  const sig = createHmac('sha256', o.secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}
const withoutCandidates = (sdp) =>
  sdp
    .split('\r\n')
    .filter((l) => !l.startsWith('a=candidate:'))
    .join('\r\n');

const ws = new WebSocket(o.url.replace(/^http/, 'ws') + '/v1/ws');
let nextId = 1;
const waiting = new Map();
const events = [];
let onEvent = null;
ws.on('message', (data) => {
  const f = JSON.parse(data.toString());
  if (typeof f.q === 'number') ws.send(JSON.stringify({ v: 1, type: 'ack', seq: f.q }));
  if ((f.type === 'ok' || f.type === 'error') && waiting.has(f.id)) {
    waiting.get(f.id)(f);
    waiting.delete(f.id);
  } else if (f.type === 'streamCreated') {
    events.push(f);
    onEvent?.();
  } else if (f.type === 'hello') onEvent?.('hello');
});
const request = (type, fields) =>
  new Promise((resolve) => {
    const id = nextId++;
    waiting.set(id, resolve);
    ws.send(JSON.stringify({ v: 1, id, type, ...fields }));
  });

const deadline = setTimeout(() => {
  out({ event: 'error', message: 'bot deadline reached' });
  process.exit(3);
}, Number(o.seconds) * 1000);
deadline.unref();

await new Promise((resolve, reject) => {
  ws.once('open', resolve);
  ws.once('error', reject);
});
const joined = await request('connect', { sessionId: o.session, token: token(), userName: `bot ${o.role}` });
if (joined.type !== 'ok') {
  out({ event: 'error', message: JSON.stringify(joined.error) });
  process.exit(2);
}
const iceServers = o['no-ice-servers'] ? [] : (joined.result.iceServers ?? []);
out({ event: 'joined', iceServers, mediaMode: joined.result.mediaMode });
const pc = new NodePeerConnection({ name: `bot-${o.role}`, iceServers, iceTransportPolicy: o.policy });
pc.on('connectionstatechange', (s) => out({ event: 'state', state: s }));

let answer;
if (o.role === 'pub') {
  pc.addVideoSource({ width: 320, height: 240, fps: 30, bitrate: 300_000, keyframeIntervalMs: 2000 });
  pc.addAudioSource();
  const offer = await pc.createOffer();
  const r = await request('publish', { sdp: withoutCandidates(offer.sdp), name: 'netns bot' });
  if (r.type !== 'ok') {
    out({ event: 'error', message: JSON.stringify(r.error) });
    process.exit(2);
  }
  answer = r.result.sdp;
} else {
  let stream = joined.result.streams?.[0];
  while (!stream) {
    await new Promise((resolve) => (onEvent = resolve));
    stream = events[0]?.stream;
  }
  pc.addReceiver('audio');
  pc.addReceiver('video');
  const offer = await pc.createOffer();
  const r = await request('subscribe', { streamId: stream.streamId, sdp: withoutCandidates(offer.sdp) });
  if (r.type !== 'ok') {
    out({ event: 'error', message: JSON.stringify(r.error) });
    process.exit(2);
  }
  answer = r.result.sdp;
}
out({ event: 'answer', candidates: answer.split('\r\n').filter((l) => l.startsWith('a=candidate:')) });
await pc.setRemoteDescription({ type: 'answer', sdp: answer });
const start = Date.now();
await new Promise((resolve) => {
  const check = (s) => {
    if (s === 'connected') resolve();
  };
  pc.on('connectionstatechange', check);
  check(pc.connectionState);
});
out({ event: 'connected', ms: Date.now() - start, pair: pc.getStats().selectedCandidatePair });
setInterval(() => {
  const s = pc.getStats();
  out({
    event: 'stats',
    pair: s.selectedCandidatePair,
    packetsReceived: s.inbound.reduce((n, x) => n + x.packetsReceived, 0),
    bytesReceived: s.inbound.reduce((n, x) => n + (x.bytesReceived ?? 0), 0),
    packetsSent: s.outbound.reduce((n, x) => n + (x.packetsSent ?? 0), 0),
  });
}, 500);
process.on('SIGTERM', () => {
  pc.close();
  ws.close();
  process.exit(0);
});
