#!/usr/bin/env node
// npm run bench:vs-janus [-- --n 50,100,200,300 --duration 10]
// The forwarding benchmark's publisher and subscribers (same bots, same NodePeerConnection, same
// synthetic VP8/Opus) against Convene and against Janus VideoRoom (Debian's janus, 127.0.0.1 only),
// interleaved in one run: for each N, Convene, Janus with its default threading, Janus with
// `event_loops = 1`, each a fresh server process pinned to core 0; the bots on core 1.
// Writes bench/results/vs-janus.json as
// { runs: [{ n, convene: S, janusDefault: S, janusTuned: S, ratioVsTunedJanus }], conditions }
// with S = { usPerPacket, lossPct, memoryPerSubscriberKB, ... } and ratio = Convene ÷ tuned Janus µs/packet.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureJanusInstalled, JANUS_ROOM, startJanus } from './lib/janus.mjs';
import { coreOfServer, log, measureFanOut, PUBLISHER_MEDIA, startConvene } from './lib/media-bench.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '50,100,200,300' },
    duration: { type: 'string', default: '10' },
    workers: { type: 'string', default: '3' },
    'join-rate': { type: 'string', default: '50' },
    'janus-port': { type: 'string', default: '8088' },
    out: { type: 'string', default: join(here, 'results', 'vs-janus.json') },
  },
});
const ns = values.n.split(',').map(Number);
const durationS = Number(values.duration);
const core = coreOfServer();
ensureJanusInstalled();

const servers = {
  convene: () => startConvene({ core }),
  janusDefault: () => startJanus({ core, eventLoops: null, port: Number(values['janus-port']) }),
  janusTuned: () => startJanus({ core, eventLoops: 1, port: Number(values['janus-port']) }),
};

async function one(kind, n) {
  const server = await servers[kind]();
  const target = kind === 'convene' ? undefined : { kind: 'janus', url: server.url, room: JANUS_ROOM };
  log(`N = ${n}, ${server.name} (pid ${server.pid})`);
  try {
    const r = await measureFanOut({ n, server, target, durationS, workers: Number(values.workers), joinRate: Number(values['join-rate']) });
    log(`  ${r.usPerPacket} µs/packet, loss ${r.lossPct}%, ${r.memoryPerSubscriberKB} KB/subscriber, server CPU ${r.serverCpuPct}%, ${r.serverThreadsUnderLoad} threads (${r.packetsReceived} packets; ${r.subscribersJoined}/${n} joined; ${r.errors} errors)`);
    const { n: _n, ...s } = r;
    return s;
  } catch (err) {
    log(`  failed: ${err.message}`);
    return { usPerPacket: null, lossPct: null, memoryPerSubscriberKB: null, error: err.message };
  } finally {
    await server.close();
  }
}

const startedAt = new Date().toISOString();
const load0 = loadavg()[0];
const runs = [];
for (const n of ns) {
  const run = { n };
  for (const kind of ['convene', 'janusDefault', 'janusTuned']) run[kind] = await one(kind, n);
  const c = run.convene.usPerPacket;
  const t = run.janusTuned.usPerPacket;
  run.ratioVsTunedJanus = c !== null && t ? Math.round((c / t) * 1000) / 1000 : null;
  runs.push(run);
  log(`N = ${n}: ratio vs tuned Janus ${run.ratioVsTunedJanus}`);
}
const result = {
  runs,
  conditions: {
    startedAt,
    finishedAt: new Date().toISOString(),
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    node: process.version,
    serverPinnedToCore: core,
    botsOnCore: 1,
    loadAverageAtStart: load0,
    durationS,
    publisher: PUBLISHER_MEDIA,
    janus: 'Debian janus 1.1.2, VideoRoom + HTTP transport only, 127.0.0.1 (LD_PRELOAD getifaddrs shim), debug_level 2',
    order: 'per N: convene, janus default, janus event_loops=1; a fresh server process each',
  },
};
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, JSON.stringify(result, null, 2) + '\n');
log(`wrote ${values.out}`);
const cell = (s) => (s.usPerPacket === null ? 'failed' : `${s.usPerPacket} µs, ${s.lossPct}% loss, ${s.memoryPerSubscriberKB} KB`);
console.table(runs.map((r) => ({ n: r.n, convene: cell(r.convene), janusDefault: cell(r.janusDefault), janusTuned: cell(r.janusTuned), ratio: r.ratioVsTunedJanus })));
process.exit(0);
