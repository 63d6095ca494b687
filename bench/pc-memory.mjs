#!/usr/bin/env node
// node bench/pc-memory.mjs [--n 20,220] [--variants untuned,convene,...] [--out bench/results/pc-memory.json]
// Resident memory of libdatachannel peer connections configured as the SFU's (one UDP port for all with ICE UDP
// mux, 127.0.0.1, a VP8 + an Opus send-only track each), without the SFU's JavaScript and without traffic, by
// stage: created and answered (ICE agent, descriptions, tracks), then connected (DTLS handshake done, SRTP set up).
// The peers (one recvonly video + audio offer each, like a subscriber) run in another process. Each variant is a
// fresh pair of processes; the measured process gets the variant's environment (the same table as
// forwarding-variants.mjs: `convene` = the settings of `convene start`). With two values of --n it also reports
// the marginal cost of one more peer connection ((RSS at n2 − RSS at n1) ÷ (n2 − n1)), without the library's
// one-time costs (threads, OpenSSL and usrsctp initialisation, the certificate), which the per-n figures include.
import { fork } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const self = fileURLToPath(import.meta.url);
const role = process.argv[2];

const VARIANTS = {
  untuned: {},
  convene: { GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=66560', NODE_OPTIONS: '--max-semi-space-size=2' },
  mmap: { GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=66560' },
  arena1: { MALLOC_ARENA_MAX: '1' },
  trim: { GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=65536' },
};

const rssKB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
const threads = () => Number(/Threads:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Resolves with the next IPC message satisfying `pred`. */
const next = (proc, pred) =>
  new Promise((resolve) => {
    const on = (m) => {
      if (pred(m)) {
        proc.off('message', on);
        resolve(m);
      }
    };
    proc.on('message', on);
  });

if (role === 'server') {
  // The measured side: PeerConnections as packages/server/src/sfu/WebRtcTransport.ts creates them.
  const ndc = await import('node-datachannel');
  const port = Number(process.argv[3]);
  const pcOptions = process.env.PC_OPTIONS ? JSON.parse(process.env.PC_OPTIONS) : {};
  const listener = new ndc.IceUdpMuxListener(port, '127.0.0.1');
  const pcs = [];
  let connected = 0;
  const gc = async () => {
    globalThis.gc?.();
    await sleep(200);
  };
  await gc();
  process.send({ stage: 'start', rssKB: rssKB() });
  process.on('message', async (m) => {
    if (m.offer) {
      const pc = new ndc.PeerConnection(`s${m.i}`, { iceServers: [], bindAddress: '127.0.0.1', enableIceUdpMux: true, portRangeBegin: port, portRangeEnd: port, ...pcOptions });
      const v = new ndc.Video('0', 'SendOnly');
      v.addVP8Codec(96);
      v.addSSRC(1000 + 2 * m.i, 'c', 's', 'v');
      const a = new ndc.Audio('1', 'SendOnly');
      a.addOpusCodec(111);
      a.addSSRC(1001 + 2 * m.i, 'c', 's', 'a');
      const tracks = [pc.addTrack(v), pc.addTrack(a)];
      for (const t of tracks) t.onMessage(() => {});
      pc.onStateChange((s) => {
        if (s === 'connected' && ++connected === m.n) process.send({ allConnected: true });
      });
      pc.setRemoteDescription(m.offer, 'offer');
      pcs.push({ pc, tracks });
      await new Promise((r) => {
        const poll = () => (pc.gatheringState() === 'complete' ? r() : setTimeout(poll, 2));
        poll();
      });
      process.send({ i: m.i, answer: pc.localDescription().sdp });
    } else if (m.measure) {
      await gc();
      const mem = process.memoryUsage();
      process.send({ stage: m.measure, rssKB: rssKB(), threads: threads(), heapUsedKB: mem.heapUsed >> 10, externalKB: mem.external >> 10 });
    } else if (m.close) {
      for (const { pc } of pcs) pc.close();
      listener.stop();
      process.exit(0);
    }
  });
  process.send({ ready: true });
} else if (role === 'client') {
  // The subscribers: a recvonly VP8 + Opus offer each, full ICE (candidates in the offer).
  const ndc = await import('node-datachannel');
  const pcs = new Map();
  process.on('message', async (m) => {
    if (m.create !== undefined) {
      const pc = new ndc.PeerConnection(`c${m.create}`, { iceServers: [], bindAddress: '127.0.0.1' });
      const v = new ndc.Video('0', 'RecvOnly');
      v.addVP8Codec(96);
      const a = new ndc.Audio('1', 'RecvOnly');
      a.addOpusCodec(111);
      const tracks = [pc.addTrack(v), pc.addTrack(a)];
      pcs.set(m.create, { pc, tracks });
      pc.onGatheringStateChange((s) => {
        if (s === 'complete') process.send({ i: m.create, offer: pc.localDescription().sdp });
      });
      pc.setLocalDescription();
    } else if (m.answer) {
      pcs.get(m.i).pc.setRemoteDescription(m.answer, 'answer');
    } else if (m.close) {
      for (const { pc } of pcs.values()) pc.close();
      process.exit(0);
    }
  });
  process.send({ ready: true });
} else {
  const { values } = parseArgs({
    options: {
      n: { type: 'string', default: '20,220' },
      variants: { type: 'string', default: 'untuned,convene,mmap,arena1' },
      out: { type: 'string', default: join(dirname(self), 'results', 'pc-memory.json') },
    },
  });
  const results = [];
  for (const variant of values.variants.split(',')) {
    const byN = [];
    for (const n of values.n.split(',').map(Number)) byN.push(await measure(variant, n));
    const [a, b] = byN;
    const marginal = (k) => (b ? Math.round((10 * (b[k] - a[k])) / (b.n - a.n)) / 10 : undefined);
    const row = { variant, env: VARIANTS[variant] ?? null, byN, marginalPerPcKB: b ? { total: marginal('connectedKB'), createdAndAnswered: marginal('answeredKB'), handshake: Math.round(10 * (marginal('connectedKB') - marginal('answeredKB'))) / 10 } : undefined };
    console.log(JSON.stringify({ variant, marginalPerPcKB: row.marginalPerPcKB, perPcKB: byN.map((r) => [r.n, r.totalPerPcKB]) }));
    results.push(row);
  }
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, JSON.stringify({ results, conditions: { startedAt: new Date().toISOString(), node: process.version } }, null, 2) + '\n');
  console.log(`wrote ${values.out}`);
}

/** One variant at one n: fresh processes, RSS of the measured one at each stage. */
async function measure(variant, n) {
  const env = VARIANTS[variant] ?? Object.fromEntries(variant.split(';').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  const port = await freeUdpPort();
  const server = fork(self, ['server', String(port)], { execArgv: ['--expose-gc'], env: { ...process.env, ...env } });
  const start = next(server, (m) => m.stage === 'start');
  const client = fork(self, ['client'], { env: process.env });
  await Promise.all([next(server, (m) => m.ready), next(client, (m) => m.ready)]);
  const stages = {};
  const answers = [];
  stages.start = (await start).rssKB;
  const allConnected = next(server, (m) => m.allConnected);
  for (let i = 0; i < n; i++) {
    const offered = next(client, (m) => m.i === i && m.offer);
    client.send({ create: i });
    const { offer } = await offered;
    const answered = next(server, (m) => m.i === i && m.answer);
    server.send({ i, n, offer });
    const { answer } = await answered;
    // Hold the answer until every server-side peer exists, to measure them before any handshake.
    answers[i] = answer;
  }
  server.send({ measure: 'answered' });
  const answeredInfo = await next(server, (m) => m.stage === 'answered');
  stages.answered = answeredInfo.rssKB;
  for (let i = 0; i < n; i++) client.send({ i, answer: answers[i] });
  await Promise.race([allConnected, sleep(60_000).then(() => Promise.reject(new Error('peers did not all connect in 60 s')))]);
  await sleep(1000);
  server.send({ measure: 'connected' });
  const connectedInfo = await next(server, (m) => m.stage === 'connected');
  stages.connected = connectedInfo.rssKB;
  server.send({ close: true });
  client.send({ close: true });
  const per = (a, b) => Math.round((10 * (stages[b] - stages[a])) / n) / 10;
  await sleep(500);
  // RSS above the start (KB, all n peer connections) and per peer connection (one-time costs included).
  return {
    n,
    answeredKB: stages.answered - stages.start,
    connectedKB: stages.connected - stages.start,
    createdAndAnsweredKB: per('start', 'answered'),
    handshakeKB: per('answered', 'connected'),
    totalPerPcKB: per('start', 'connected'),
    rssStartKB: stages.start,
    threads: connectedInfo.threads,
    v8HeapUsedKB: connectedInfo.heapUsedKB,
  };
}

function freeUdpPort() {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
