// Shared by bench/forwarding.mjs and bench/vs-janus.mjs: start a Convene server pinned to one core,
// and measure one fan-out run (1 publisher → N subscriber bots from @convene/loadtest) against any
// server process: CPU per forwarded packet, loss, memory per subscriber.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runLoadTest } from '@convene/loadtest';
import { withStartEnvDefaults } from '@convene/server';
import { cpuSeconds, rssKB, threadCount } from './proc.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const log = (...a) => process.stderr.write(a.join(' ') + '\n');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The publisher of every media benchmark: 640x480 30 fps VP8 sized for ≈5 packets per frame (≈150 packets/s) + Opus 20 ms (50 packets/s). */
export const PUBLISHER_MEDIA = { width: 640, height: 480, fps: 30, videoBitrate: 1_300_000, keyframeIntervalMs: 2000 };

/** Wraps a command in `taskset -c <core>` when the machine has that core. */
export function pinned(core, cmd, args) {
  return core === null ? [cmd, args] : ['taskset', ['-c', String(core), cmd, ...args]];
}

/**
 * Starts a Convene server in its own process (pinned to `core`); resolves once it listens.
 * The process gets the settings `convene start` gives itself (`withStartEnvDefaults`, packages/server/src/startEnv.ts)
 * unless `startDefaults` is false; `env` is added to its environment first (a variable set there wins over a
 * default). `wrap` is a command prefix (e.g. ['heaptrack', '-o', file]) put between taskset and node.
 */
export async function startConvene({ core = 0, env = {}, startDefaults = true, wrap = [] } = {}) {
  const apiKey = 'bench-' + randomBytes(4).toString('hex');
  const apiSecret = randomBytes(24).toString('base64url');
  const nodeArgs = ['--expose-gc', join(here, 'media-server-child.mjs')];
  const [cmd, args] = wrap.length ? pinned(core, wrap[0], [...wrap.slice(1), process.execPath, ...nodeArgs]) : pinned(core, process.execPath, nodeArgs);
  const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...(startDefaults ? withStartEnvDefaults({ ...process.env, ...env }) : { ...process.env, ...env }), BENCH_API_KEY: apiKey, BENCH_API_SECRET: apiSecret } });
  const ready = await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`Convene server exited with ${code}`)));
  });
  const request = (msg, key) =>
    new Promise((resolve) => {
      const on = (m) => {
        if (m[key] !== undefined) {
          child.off('message', on);
          resolve(m);
        }
      };
      child.on('message', on);
      child.send(msg);
    });
  return {
    name: 'convene',
    url: ready.url,
    pid: ready.pid,
    mediaTransport: ready.mediaTransport,
    apiKey,
    apiSecret,
    gc: () => request({ cmd: 'gc' }, 'gc'),
    mem: async () => (await request({ cmd: 'mem' }, 'mem')).mem,
    close: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        child.send({ cmd: 'close' });
      }),
  };
}

/**
 * One run: 1 publisher (video + audio) and `n` subscribers through `server`, measured over a
 * window of `durationS`. `target` is the load tester's target (Convene by default).
 * - usPerPacket: CPU (user + system) of every process and thread of the server over the window ÷ RTP
 *   packets counted at the subscribers in the window.
 * - memoryPerSubscriberKB: (server RSS under load − RSS with the publisher alone) ÷ n.
 * - lossPct: packets lost ÷ packets expected, at the subscribers, over the window.
 */
export async function measureFanOut({ n, server, target, durationS = 10, workers = 3, joinRate = 50, quiet = false, window: windowHooks = {} }) {
  let rssIdle = 0;
  let rssLoad = 0;
  let rssLoadAfterGc = null;
  let memIdle = null;
  let memLoad = null;
  let memLoadAfterGc = null;
  let memStart = null;
  let memEnd = null;
  let cpu0 = 0;
  let cpu1 = 0;
  let threadsLoad = 0;
  let bots0 = 0;
  let wall0 = 0;
  let cpuPublisherOnly = null;
  let fwd0 = null;
  let fwd1 = null;
  let wall1 = 0;
  let bots1 = 0;
  // This process's tree holds the bots (its workers) and the server (when we started it): bots = tree − server.
  const botCpu = () => cpuSeconds(process.pid) - (server.spawnedByUs === false ? 0 : cpuSeconds(server.pid));
  let lastLine = 0;
  const report = await runLoadTest({
    url: server.url,
    apiKey: server.apiKey,
    apiSecret: server.apiSecret,
    target,
    videoPublishers: 1,
    audioPublishers: 1,
    subscribers: n,
    durationS,
    workers,
    publisherWorkers: 1,
    joinRate,
    joinTimeoutMs: 30_000,
    bindAddress: '127.0.0.1',
    media: PUBLISHER_MEDIA,
    settleMs: 1000,
    onProgress: (p) => {
      if (quiet || p.elapsedS - lastLine < 5) return;
      lastLine = p.elapsedS;
      log(`    ${p.phase} bots ${p.joined}/${p.planned} tracks ${p.tracksReceiving}/${p.tracksExpected} loss ${p.lossPct.toFixed(2)}% errors ${p.errors}`);
    },
    hooks: {
      publishersReady: async () => {
        // The publisher's stream running, no subscriber yet: the server's ingest-only CPU, then its baseline memory.
        const c0 = cpuSeconds(server.pid);
        const t0 = performance.now();
        await sleep(2000);
        cpuPublisherOnly = round((100 * (cpuSeconds(server.pid) - c0) * 1000) / (performance.now() - t0), 1);
        await server.gc?.();
        rssIdle = rssKB(server.pid);
        memIdle = (await server.mem?.()) ?? null;
      },
      windowStart: async () => {
        fwd0 = await forwardedByServer(server);
        await windowHooks.start?.();
        memStart = (await server.mem?.()) ?? null;
        cpu0 = cpuSeconds(server.pid);
        bots0 = botCpu();
        wall0 = performance.now();
      },
      beforeWindowEnd: async () => {
        rssLoad = rssKB(server.pid);
        threadsLoad = threadCount(server.pid);
        memLoad = (await server.mem?.()) ?? null;
      },
      windowEnd: async () => {
        cpu1 = cpuSeconds(server.pid);
        bots1 = botCpu();
        wall1 = performance.now();
        await windowHooks.end?.();
        memEnd = (await server.mem?.()) ?? null;
        fwd1 = await forwardedByServer(server);
        if (server.gc) {
          await server.gc();
          rssLoadAfterGc = rssKB(server.pid);
          memLoadAfterGc = (await server.mem?.()) ?? null;
        }
      },
    },
  });
  // BENCH_REPORT_DIR=dir keeps every run's full load-test report (every bot's counters) for inspection.
  if (process.env.BENCH_REPORT_DIR) {
    mkdirSync(process.env.BENCH_REPORT_DIR, { recursive: true });
    writeFileSync(join(process.env.BENCH_REPORT_DIR, `${server.name}-n${n}.json`), JSON.stringify(report, null, 1));
  }
  const received = report.totals.packetsReceived;
  const pub = report.publishers[0];
  const rate = (kind) => Math.round((pub?.tracks.find((t) => t.kind === kind)?.packets ?? 0) / report.windowSeconds);
  return {
    n,
    usPerPacket: received > 0 ? round(((cpu1 - cpu0) * 1e6) / received, 2) : null,
    lossPct: report.totals.lossPct,
    // The same after taking off the server's publisher-only CPU rate over the interval: the cost a subscriber adds.
    usPerPacketMarginal:
      received > 0 && cpuPublisherOnly !== null ? round((((cpu1 - cpu0) - (cpuPublisherOnly / 100) * ((wall1 - wall0) / 1000)) * 1e6) / received, 2) : null,
    memoryPerSubscriberKB: round((rssLoad - rssIdle) / n, 1),
    packetsReceived: received,
    packetsExpected: report.totals.packetsSent * n,
    // Convene's own count (GET /metrics, convene_rtp_packets_forwarded_total) over the window: a cross-check.
    packetsForwardedByServer: fwd0 !== null && fwd1 !== null ? fwd1 - fwd0 : undefined,
    packetsLost: report.totals.packetsLost,
    serverCpuSeconds: round(cpu1 - cpu0, 2),
    // Over the CPU readings' interval: the window plus the drain at its end.
    serverCpuPct: round((100 * (cpu1 - cpu0) * 1000) / (wall1 - wall0), 1),
    windowSeconds: report.windowSeconds,
    publisherPacketsPerSecond: { video: rate('video'), audio: rate('audio') },
    rssIdleKB: rssIdle,
    rssLoadKB: rssLoad,
    memoryPerSubscriberAfterGcKB: rssLoadAfterGc === null ? undefined : round((rssLoadAfterGc - rssIdle) / n, 1),
    // Per subscriber, KB: how the RSS growth splits (anonymous RSS = V8 heap + malloc heaps + stacks; V8's heap
    // pages; ArrayBuffers, outside V8's heap), under load and after a forced GC.
    memoryPerSubscriberSplitKB: memIdle && memLoad ? memorySplit(memIdle, memLoad, n) : undefined,
    memoryPerSubscriberSplitAfterGcKB: memIdle && memLoadAfterGc ? memorySplit(memIdle, memLoadAfterGc, n) : undefined,
    // V8 garbage collections in the window (count, pause ms): what a smaller young generation costs.
    serverGcInWindow: memStart && memEnd ? { count: memEnd.gcCount - memStart.gcCount, ms: round(memEnd.gcMs - memStart.gcMs, 1) } : undefined,
    serverThreadsUnderLoad: threadsLoad,
    serverCpuPctPublisherOnly: cpuPublisherOnly,
    botsCpuPct: round((100 * (bots1 - bots0) * 1000) / (wall1 - wall0), 1),
    drainSeconds: round((wall1 - wall0) / 1000 - report.windowSeconds, 2),
    subscribersJoined: report.subscribers.filter((s) => s.joinMs !== null).length,
    tracks: report.tracks,
    joinP50Ms: report.join.p50Ms,
    firstFrameP50Ms: report.firstFrame.p50Ms,
    latencyP50Ms: report.totals.latencyP50Ms,
    latencyP99Ms: report.totals.latencyP99Ms,
    errors: report.errors.length,
    firstErrors: report.errors.slice(0, 3).map((e) => `${e.bot} ${e.kind}: ${e.message}`),
  };
}

/** convene_rtp_packets_forwarded_total from the server's /metrics (null for servers without it). */
async function forwardedByServer(server) {
  if (server.name !== 'convene') return null;
  try {
    const text = await (await fetch(server.url + '/metrics', { signal: AbortSignal.timeout(5000) })).text();
    const m = /^convene_rtp_packets_forwarded_total (\d+)/m.exec(text);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

function memorySplit(idle, load, n) {
  return {
    anonymous: round((load.rssAnonKB - idle.rssAnonKB) / n, 1),
    v8HeapTotal: round((load.heapTotal - idle.heapTotal) / 1024 / n, 1),
    v8HeapUsed: round((load.heapUsed - idle.heapUsed) / 1024 / n, 1),
    arrayBuffers: round((load.arrayBuffers - idle.arrayBuffers) / 1024 / n, 1),
  };
}

function round(v, d) {
  const f = 10 ** d;
  return Math.round(v * f) / f;
}

/** Cores: the server on core 0, the bots (this process and its workers) on core 1, when there are two. */
export function coreOfServer() {
  try {
    return Number(process.env.BENCH_NO_PIN) ? null : 0;
  } catch {
    return 0;
  }
}
