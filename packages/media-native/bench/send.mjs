// Cost of Endpoint.send(): `node bench/send.mjs [iterations=20000]`.
// A node-datachannel bot in a child process is the DTLS peer and receiver. Reports ns per call for:
//   - a plain JS function call (reference);
//   - send() to an unknown id, and of a too-big packet to a connected id: N-API call + argument checks + lookup,
//     no crypto, no syscall (the call overhead);
//   - send() of a 1100-byte RTP packet outside a receive dispatch: SRTP protect + one sendto per packet;
//   - the same inside onPacket (a receive dispatch): SRTP protect + queued, one sendmmsg per 64 packets.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const iterations = Number(process.argv[2] ?? 20000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

if (process.argv[3] === 'child') {
  const { makeBot, rtpPacket, ndc } = await import('./peers.mjs');
  const bot = await makeBot('bench-bot', 1234);
  let received = 0;
  bot.track.onMessage(() => received++);
  process.on('message', (msg) => {
    if (msg.type === 'answer') {
      bot.track.onOpen(() => process.send({ type: 'open' }));
      bot.pc.setRemoteDescription(msg.sdp, 'answer');
    } else if (msg.type === 'trigger') {
      bot.track.sendMessageBinary(rtpPacket(200, msg.seq, 1234));
    } else if (msg.type === 'count') {
      process.send({ type: 'count', received });
    } else if (msg.type === 'exit') {
      bot.pc.close();
      ndc.cleanup();
      process.exit(0);
    }
  });
  process.send({ type: 'offer', fingerprintAlgorithm: bot.fingerprintAlgorithm, fingerprint: bot.fingerprint });
} else {
  const { answerSdp, rtpPacket } = await import('./peers.mjs');
  const { Endpoint, EVENT_DTLS_CONNECTED } = await import('../index.js');
  const child = fork(fileURLToPath(import.meta.url), [String(iterations), 'child'], { stdio: 'inherit' });
  let onMessage = () => {};
  child.on('message', (m) => onMessage(m));
  const next = (type) => new Promise((r) => (onMessage = (m) => m.type === type && r(m)));
  const offer = await next('offer');

  let inDispatch = () => {};
  let connectedProfile = '';
  const ep = new Endpoint({
    ip: '127.0.0.1',
    port: 0,
    recvBuffer: Buffer.alloc(2048),
    onPacket: (id, len) => inDispatch(id, len),
    onEvent: (_id, ev, detail) => {
      if (ev === EVENT_DTLS_CONNECTED) connectedProfile = detail;
    },
  });
  const ufrag = randomBytes(4).toString('hex');
  const pwd = randomBytes(12).toString('hex');
  const id = ep.createConnection(ufrag, pwd, offer.fingerprintAlgorithm, offer.fingerprint, 'server');
  child.send({ type: 'answer', sdp: answerSdp({ port: ep.port, ufrag, pwd, fingerprint: ep.fingerprint }) });
  await next('open');
  while (!connectedProfile) await sleep(10);

  const pkt = rtpPacket(1100, 1, 5678);
  const big = Buffer.alloc(1600, 0);
  big[0] = 0x80;
  const time = (fn, n) => {
    const t0 = process.hrtime.bigint();
    fn(n);
    return Number(process.hrtime.bigint() - t0) / n;
  };
  const best = (fn, n, reps = 5) => Math.min(...Array.from({ length: reps }, () => time(fn, n)));
  let sink = 0;
  const noop = (a, b) => (sink += a + b.length);
  const calls = iterations * 10;

  const results = {};
  results['plain JS function call'] = best((n) => { for (let i = 0; i < n; i++) noop(i & 7, pkt); }, calls);
  results['send(unknown id)'] = best((n) => { for (let i = 0; i < n; i++) ep.send(9999, pkt); }, calls);
  results['send(id, 1600-byte packet) → false'] = best((n) => { for (let i = 0; i < n; i++) ep.send(id, big); }, calls);
  let ok = 0;
  results['send(id, 1100-byte RTP), not batched'] = best((n) => {
    for (let i = 0; i < n; i++) {
      pkt.writeUInt16BE(i & 0xffff, 2);
      if (ep.send(id, pkt)) ok++;
    }
  }, iterations);
  // Batched: the loop runs inside onPacket, triggered by one packet from the bot.
  const batched = [];
  for (let rep = 0; rep < 5; rep++) {
    const done = new Promise((resolve) => {
      inDispatch = () => {
        inDispatch = () => {};
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < iterations; i++) {
          pkt.writeUInt16BE(i & 0xffff, 2);
          if (ep.send(id, pkt)) ok++;
        }
        resolve(Number(process.hrtime.bigint() - t0) / iterations);
      };
    });
    child.send({ type: 'trigger', seq: rep });
    batched.push(await done);
    await sleep(50);
  }
  results['send(id, 1100-byte RTP), batched in onPacket'] = Math.min(...batched);
  await sleep(200);
  child.send({ type: 'count' });
  const { received } = await next('count');
  const stats = ep.getStats(id);
  console.log(`profile ${connectedProfile}; ${iterations} packets per run`);
  for (const [k, v] of Object.entries(results)) console.log(`${k.padEnd(48)} ${v.toFixed(0).padStart(6)} ns`);
  console.log(`packets sent ${stats.packetsSent}, send errors ${stats.sendErrors}, received by the bot ${received} (loopback drops are expected)`);
  if (sink === 42) console.log('');
  child.send({ type: 'exit' });
  ep.close();
}
