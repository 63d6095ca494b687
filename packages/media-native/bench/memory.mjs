// Native memory per connection: `node --expose-gc bench/memory.mjs [count=300]`.
// The endpoint runs in this process; the node-datachannel peers (the real DTLS clients) run in a child process,
// so their memory is not counted. Offers and answers cross the IPC channel in one message per phase, to keep
// this process's own JS activity (and its RSS noise) small. Prints RSS and C-heap (glibc mallinfo2) growth per
// connection: after creating `count` connections (before ICE), 1 s after all are DTLS-connected (SSL objects
// still held), and in the steady state once dtlsStateTtlMs (5 s) has passed and the SSL objects are freed.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const count = Number(process.argv[2] ?? 300);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

if (process.argv[3] === 'child') {
  const { makeBot, ndc } = await import('./peers.mjs');
  const bots = [];
  process.on('message', async (msg) => {
    if (msg.type === 'offers') {
      const offers = [];
      for (let i = 0; i < msg.n; i++) {
        const bot = await makeBot(`bot${bots.length}`, 1000 + bots.length);
        bots.push(bot);
        offers.push({ i: bots.length - 1, fingerprintAlgorithm: bot.fingerprintAlgorithm, fingerprint: bot.fingerprint });
      }
      process.send({ type: 'offers', offers });
    } else if (msg.type === 'answers') {
      // A few at a time: hundreds of simultaneous handshakes would only measure the scheduler.
      for (let k = 0; k < msg.answers.length; k++) {
        const { i, sdp } = msg.answers[k];
        bots[i].pc.setRemoteDescription(sdp, 'answer');
        if (k % 10 === 9) await sleep(30);
      }
    } else if (msg.type === 'exit') {
      for (const b of bots) b.pc.close();
      ndc.cleanup();
      process.exit(0);
    }
  });
  process.send({ type: 'ready' });
} else {
  const { answerSdp } = await import('./peers.mjs');
  const { Endpoint, EVENT_DTLS_CONNECTED, EVENT_FAILED, _mallocInUse } = await import('../index.js');
  if (!globalThis.gc) console.warn('run with --expose-gc for steadier numbers');
  const child = fork(fileURLToPath(import.meta.url), [String(count), 'child'], { stdio: 'inherit' });
  let onMessage = () => {};
  child.on('message', (m) => onMessage(m));
  const next = (type) => new Promise((r) => (onMessage = (m) => m.type === type && r(m)));
  await next('ready');

  let connected = 0;
  let failed = 0;
  const ep = new Endpoint({
    ip: '127.0.0.1',
    port: 0,
    recvBuffer: Buffer.alloc(2048),
    onPacket: () => {},
    onEvent: (_id, ev, detail) => {
      if (ev === EVENT_DTLS_CONNECTED) connected++;
      if (ev === EVENT_FAILED) {
        failed++;
        console.error('failed:', detail);
      }
    },
  });
  const sample = () => {
    globalThis.gc?.();
    return { rss: process.memoryUsage().rss, heap: _mallocInUse() };
  };
  const until = async (pred, ms) => {
    const end = Date.now() + ms;
    while (!pred() && Date.now() < end) await sleep(20);
  };
  async function round(n) {
    child.send({ type: 'offers', n });
    const { offers } = await next('offers');
    const answers = offers.map((o) => {
      const ufrag = randomBytes(4).toString('hex');
      const pwd = randomBytes(12).toString('hex');
      ep.createConnection(ufrag, pwd, o.fingerprintAlgorithm, o.fingerprint, 'server');
      return { i: o.i, sdp: answerSdp({ port: ep.port, ufrag, pwd, fingerprint: ep.fingerprint }) };
    });
    return answers;
  }
  async function complete(answers) {
    const target = connected + failed + answers.length;
    child.send({ type: 'answers', answers });
    await until(() => connected + failed >= target, 60000);
  }

  // Warm-up: OpenSSL's lazily built tables, allocator arenas, JIT.
  await complete(await round(20));
  await sleep(6000);
  const base = sample();
  const answers = await round(count);
  const created = sample();
  await complete(answers);
  await sleep(1000);
  const fresh = sample();
  await sleep(5500);
  const done = sample();
  const per = (a, b, k) => ((b[k] - a[k]) / count / 1024).toFixed(1);
  console.log(`connections: ${count}, connected: ${connected - 20}, failed: ${failed}`);
  console.log(`per connection before ICE:      RSS ${per(base, created, 'rss')} KB, C heap ${per(base, created, 'heap')} KB`);
  console.log(`per connection 1 s after DTLS:  RSS ${per(base, fresh, 'rss')} KB, C heap ${per(base, fresh, 'heap')} KB (SSL objects held)`);
  console.log(`per connected connection:       RSS ${per(base, done, 'rss')} KB, C heap ${per(base, done, 'heap')} KB (steady state)`);
  child.send({ type: 'exit' });
  ep.close();
}
