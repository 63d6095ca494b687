// A media bot on the client SDK itself (Session, NodePublisher, NodeSubscriber) for the network-namespace
// tests, run as its own process inside a namespace. `--relayed` creates the session relayed first (REST,
// idempotent); `--ice-config '<json>'` is given to session.setIceConfig() before publishing/subscribing.
// Writes JSON lines: joined, published, subscribed, stats (every 500 ms), metrics, error.
import { parseArgs } from 'node:util';
import { createHmac } from 'node:crypto';
import { initSession, OT } from '@convene/client';

if (process.env.CONVENE_BOT_RTC_LOG) {
  const { appendFileSync } = await import('node:fs');
  const file = `${process.env.CONVENE_BOT_RTC_LOG_DIR ?? '/tmp'}/convene-bot-${process.argv[process.argv.indexOf('--role') + 1]}.log`;
  (await import('node-datachannel')).default.initLogger(process.env.CONVENE_BOT_RTC_LOG, (level, message) => appendFileSync(file, `${Date.now()} [${level}] ${message}\n`));
}

const { values: o } = parseArgs({
  options: {
    url: { type: 'string' },
    key: { type: 'string' },
    secret: { type: 'string' },
    session: { type: 'string' },
    role: { type: 'string' }, // pub | sub
    relayed: { type: 'boolean', default: false },
    'ice-config': { type: 'string' },
    seconds: { type: 'string', default: '30' },
  },
});
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
const fail = (message, code = 2) => {
  out({ event: 'error', message });
  process.exit(code);
};
setTimeout(() => fail('bot deadline reached', 3), Number(o.seconds) * 1000).unref();

function token() {
  const b64 = (x) => Buffer.from(x).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const head = b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64(JSON.stringify({ iss: o.key, tpc: o.session, role: 'publisher', iat: now, exp: now + 600 }));
  return `${head}.${body}.${createHmac('sha256', o.secret).update(`${head}.${body}`).digest('base64url')}`;
}

try {
  if (o.relayed) {
    const r = await fetch(`${o.url}/v1/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Basic ' + Buffer.from(`${o.key}:${o.secret}`).toString('base64') },
      body: JSON.stringify({ name: o.session, mediaMode: 'relayed' }),
    });
    if (r.status !== 200) fail(`create session: ${r.status} ${await r.text()}`);
  }
  const session = initSession(o.key, o.session, { serverUrl: o.url });
  await session.connect(token());
  out({ event: 'joined', connectionId: session.connection.connectionId });
  if (o['ice-config']) session.setIceConfig(JSON.parse(o['ice-config']));

  const pairOf = (stats) => stats?.selectedCandidatePair ?? null;
  if (o.role === 'pub') {
    const publisher = OT.initPublisher(null, { name: `bot in ${o.session}`, resolution: '320x240', frameRate: 15 });
    await new Promise((resolve, reject) => session.publish(publisher, (err) => (err ? reject(err) : resolve())));
    out({ event: 'published', streamId: publisher.stream.streamId });
    setInterval(() => {
      const relays = publisher.getRelayStats();
      out({ event: 'stats', relays: relays.length, pair: pairOf(relays[0]?.stats) });
    }, 500);
  } else {
    const stream = await new Promise((resolve) => {
      const found = session.streams.find((s) => s.connection.connectionId !== session.connection.connectionId);
      if (found) resolve(found);
      else session.once('streamCreated', (e) => resolve(e.stream));
    });
    const sub = await new Promise((resolve, reject) => {
      const s = session.subscribe(stream, undefined, {}, (err) => (err ? reject(err) : resolve(s)));
    });
    out({ event: 'subscribed', streamId: stream.streamId });
    setInterval(async () => {
      const stats = sub.getStats();
      const video = stats?.inbound.find((t) => t.kind === 'video');
      const audio = stats?.inbound.find((t) => t.kind === 'audio');
      const text = await fetch(`${o.url}/metrics`).then((r) => r.text(), () => '');
      const forwarded = Number(/^convene_rtp_packets_forwarded_total (\d+)/m.exec(text)?.[1] ?? -1);
      out({
        event: 'stats',
        framesReceived: video?.framesReceived ?? 0,
        bytesReceived: (video?.bytesReceived ?? 0) + (audio?.bytesReceived ?? 0),
        pair: pairOf(stats),
        forwarded,
      });
    }, 500);
  }
} catch (err) {
  fail(`${err?.name ?? 'Error'}: ${err?.message ?? String(err)}`);
}
