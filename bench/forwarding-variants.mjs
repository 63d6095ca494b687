#!/usr/bin/env node
// node bench/forwarding-variants.mjs [--n 100 --duration 10 --variants untuned,convene --rounds 1 --perf dir --heaptrack dir]
// The forwarding benchmark's run (bench/forwarding.mjs) for several server variants **interleaved in one
// run**: for each round, each N, each variant a fresh Convene server pinned to core 0 with the variant's
// environment. For A/B of startup knobs (V8 flags, malloc tunables) side by side on a shared machine.
// --perf dir: `perf record -e cpu-clock -g` on the server over each window (dir/<variant>-n<N>.data).
// --heaptrack dir: run each server under heaptrack (dir/<variant>-n<N>.zst); CPU figures are then meaningless.
// Run it through `taskset -c 1` (as forwarding.sh does) so the bots stay off the server's core.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { withStartEnvDefaults } from '@convene/server';
import { coreOfServer, log, measureFanOut, PUBLISHER_MEDIA, startConvene } from './lib/media-bench.mjs';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Server environments to compare, each added to a server **without** `convene start`'s own settings
 * (packages/server/src/startEnv.ts) except `convene`, which has exactly those. Any `NAME=VALUE[;NAME=VALUE]`
 * on the command line is a variant too (also without the defaults).
 */
export const VARIANTS = {
  untuned: {},
  convene: null,
  // glibc malloc: the default is up to 8 arenas per core; each libdatachannel/libjuice thread gets its own.
  arena1: { MALLOC_ARENA_MAX: '1' },
  arena2: { MALLOC_ARENA_MAX: '2' },
  // V8's young generation: Node's default lets each semi-space grow to 16 MB under a high allocation rate.
  semi1: { NODE_OPTIONS: '--max-semi-space-size=1' },
  semi2: { NODE_OPTIONS: '--max-semi-space-size=2' },
  // glibc: blocks >= 65 KB (libjuice's 67 KB agent) get their own mapping; free memory at the top of the heap goes back sooner.
  mmap: { GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=66560' },
  trim: { GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=65536' },
  semi1mmap: { NODE_OPTIONS: '--max-semi-space-size=1', GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=65536' },
  semi1trim: { NODE_OPTIONS: '--max-semi-space-size=1', GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=65536' },
  semi1both: { NODE_OPTIONS: '--max-semi-space-size=1', GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=65536:glibc.malloc.mmap_threshold=65536' },
  semi2both: { NODE_OPTIONS: '--max-semi-space-size=2', GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=65536:glibc.malloc.mmap_threshold=65536' },
};

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '100' },
    duration: { type: 'string', default: '10' },
    workers: { type: 'string', default: '3' },
    'join-rate': { type: 'string', default: '50' },
    variants: { type: 'string', default: 'untuned,convene' },
    rounds: { type: 'string', default: '1' },
    perf: { type: 'string' },
    heaptrack: { type: 'string' },
    out: { type: 'string', default: join(here, 'results', 'forwarding-variants.json') },
  },
});
const ns = values.n.split(',').map(Number);
const names = values.variants.split(',');
for (const v of names) if (!(v in VARIANTS) && !v.includes('=')) throw new Error(`unknown variant ${v} (${Object.keys(VARIANTS).join(', ')}, or NAME=VALUE[;NAME=VALUE])`);
/** A variant is a name from VARIANTS or an ad-hoc `NAME=VALUE;NAME=VALUE` environment. */
const envOf = (v) => (v in VARIANTS ? VARIANTS[v] ?? {} : Object.fromEntries(v.split(';').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])));
const runs = [];
const startedAt = new Date().toISOString();
const load0 = loadavg()[0];
for (let round = 1; round <= Number(values.rounds); round++) {
  for (const n of ns) {
    for (const variant of names) {
      const tag = `${variant.replace(/[^\w.-]+/g, '_')}-n${n}-r${round}`;
      let wrap = [];
      if (values.heaptrack) {
        mkdirSync(values.heaptrack, { recursive: true });
        wrap = ['heaptrack', '-o', join(values.heaptrack, tag)];
      }
      const server = await startConvene({ core: coreOfServer(), env: envOf(variant), startDefaults: variant === 'convene', wrap });
      log(`round ${round} N = ${n} ${variant}: server pid ${server.pid}`);
      let perf = null;
      const window = values.perf
        ? {
            start: async () => {
              mkdirSync(values.perf, { recursive: true });
              perf = spawn('perf', ['record', '-q', '-e', 'cpu-clock', '-F', '4000', '-g', '-p', String(server.pid), '-o', join(values.perf, `${tag}.data`)], { stdio: 'ignore' });
              await new Promise((r) => setTimeout(r, 300));
            },
            end: async () => {
              perf.kill('SIGINT');
              await new Promise((r) => perf.once('exit', r));
            },
          }
        : {};
      try {
        const r = await measureFanOut({ n, server, durationS: Number(values.duration), workers: Number(values.workers), joinRate: Number(values['join-rate']), quiet: true, window });
        runs.push({ variant, env: variant === 'convene' ? withStartEnvDefaults({}) : envOf(variant), round, ...r });
        log(`  ${r.usPerPacket} µs/packet (marginal ${r.usPerPacketMarginal}), loss ${r.lossPct}%, ${r.memoryPerSubscriberKB} KB/subscriber (after GC ${r.memoryPerSubscriberAfterGcKB}), RSS idle ${r.rssIdleKB} KB, server CPU ${r.serverCpuPct}%, bots ${r.botsCpuPct}%, threads ${r.serverThreadsUnderLoad}, GC ${r.serverGcInWindow?.count} × = ${r.serverGcInWindow?.ms} ms`);
      } catch (err) {
        log(`  failed: ${err.message}`);
        runs.push({ variant, round, n, error: err.message });
      } finally {
        await server.close();
      }
    }
  }
}
const result = {
  runs,
  conditions: { startedAt, finishedAt: new Date().toISOString(), cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, serverPinnedToCore: coreOfServer(), loadAverageAtStart: load0, durationS: Number(values.duration), publisher: PUBLISHER_MEDIA },
};
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, JSON.stringify(result, null, 2) + '\n');
log(`wrote ${values.out}`);
console.table(runs.map(({ variant, round, n, usPerPacket, usPerPacketMarginal, lossPct, memoryPerSubscriberKB, memoryPerSubscriberAfterGcKB, rssIdleKB, serverCpuPct }) => ({ variant, round, n, usPerPacket, usPerPacketMarginal, lossPct, memoryPerSubscriberKB, memoryPerSubscriberAfterGcKB, rssIdleKB, serverCpuPct })));
process.exit(0);
