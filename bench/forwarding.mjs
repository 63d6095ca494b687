#!/usr/bin/env node
// npm run bench:forwarding [-- --n 50,100,200,300 --duration 10 --workers 3 --compare libdatachannel]
// 1 publisher (≈150 video + 50 audio RTP packets/s) fanned out by a Convene server to N subscriber bots
// (@convene/loadtest, in other processes). The server runs in its own process pinned to core 0
// (taskset -c 0); forwarding.sh runs this script and its bots on core 1. A fresh server per N.
// Writes bench/results/forwarding.json as { runs: [{ n, usPerPacket, lossPct, memoryPerSubscriberKB, ... }], conditions }.
// `runs` uses the server's default media transport (native when built); `--compare libdatachannel` also runs
// that transport right after each N (side by side, same conditions) into `comparison`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { withStartEnvDefaults } from '@convene/server';
import { coreOfServer, log, measureFanOut, PUBLISHER_MEDIA, startConvene } from './lib/media-bench.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '50,100,200,300' },
    duration: { type: 'string', default: '10' },
    workers: { type: 'string', default: '3' },
    'join-rate': { type: 'string', default: '50' },
    out: { type: 'string', default: join(here, 'results', 'forwarding.json') },
    compare: { type: 'string', default: '' },
  },
});
const ns = values.n.split(',').map(Number);
const durationS = Number(values.duration);
const runs = [];
const comparison = [];
const startedAt = new Date().toISOString();
const load0 = loadavg()[0];
async function measure(n, transport) {
  const server = await startConvene({ core: coreOfServer(), env: transport ? { MEDIA_TRANSPORT: transport } : {} });
  log(`N = ${n}${transport ? ` (${transport})` : ''}: server pid ${server.pid} at ${server.url}`);
  try {
    const r = await measureFanOut({ n, server, durationS, workers: Number(values.workers), joinRate: Number(values['join-rate']) });
    log(`  ${r.usPerPacket} µs/packet, loss ${r.lossPct}%, ${r.memoryPerSubscriberKB} KB/subscriber, server CPU ${r.serverCpuPct}% (${r.packetsReceived} packets in ${r.windowSeconds} s; publisher ${r.publisherPacketsPerSecond.video}+${r.publisherPacketsPerSecond.audio} pkt/s; ${r.errors} errors)`);
    return { ...r, transport: server.mediaTransport };
  } catch (err) {
    log(`  N = ${n} failed: ${err.message}`);
    return { n, usPerPacket: null, lossPct: null, memoryPerSubscriberKB: null, error: err.message };
  } finally {
    await server.close();
  }
}

for (const n of ns) {
  runs.push(await measure(n));
  if (values.compare) comparison.push(await measure(n, values.compare));
}
const result = {
  runs,
  ...(comparison.length ? { comparison } : {}),
  conditions: {
    startedAt,
    finishedAt: new Date().toISOString(),
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    node: process.version,
    serverPinnedToCore: coreOfServer(),
    botsOnCore: 1,
    loadAverageAtStart: load0,
    durationS,
    publisher: PUBLISHER_MEDIA,
    transport: 'loopback (127.0.0.1)',
    // The server process's settings, as `convene start` sets them (packages/server/src/startEnv.ts).
    serverEnv: (({ GLIBC_TUNABLES, NODE_OPTIONS }) => ({ GLIBC_TUNABLES, NODE_OPTIONS }))(withStartEnvDefaults(process.env)),
  },
};
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, JSON.stringify(result, null, 2) + '\n');
log(`wrote ${values.out}`);
console.table([...runs, ...comparison].map(({ n, transport, usPerPacket, lossPct, memoryPerSubscriberKB, serverCpuPct }) => ({ n, transport, usPerPacket, lossPct, memoryPerSubscriberKB, serverCpuPct })));
process.exit(0);
