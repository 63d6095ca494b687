// A Convene server (signaling + SFU) in its own process for the media benchmarks. Started pinned
// to one core (`taskset -c 0`); media on 127.0.0.1. IPC: { cmd: 'gc' } -> { gc: true } after a
// full collection; { cmd: 'mem' } -> { mem: process.memoryUsage() + RSS split + GC totals };
// { cmd: 'close' } -> exits. Sends { ready, url, pid } first.
import { readFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { startServer } from '@convene/server';

const server = await startServer({
  port: 0,
  host: '127.0.0.1',
  rtcBindAddress: '127.0.0.1',
  apiKey: process.env.BENCH_API_KEY,
  apiSecret: process.env.BENCH_API_SECRET,
  logLevel: 'silent',
  mediaTransport: process.env.MEDIA_TRANSPORT || undefined,
});

// Garbage collections so far (count and ms of pause), for the benchmark to difference over its window.
const gcTotals = { count: 0, ms: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcTotals.count++;
    gcTotals.ms += e.duration;
  }
}).observe({ entryTypes: ['gc'] });

process.on('message', async (msg) => {
  if (msg.cmd === 'gc') {
    for (let i = 0; i < 2; i++) {
      globalThis.gc?.();
      await new Promise((r) => setTimeout(r, 50));
    }
    process.send({ gc: true });
  } else if (msg.cmd === 'mem') {
    // Where the resident memory is: V8's heap and Node's ArrayBuffers, and the kernel's split of RSS.
    const rollup = readFileSync('/proc/self/smaps_rollup', 'utf8');
    const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? NaN);
    process.send({ mem: { ...process.memoryUsage(), rssAnonKB: kb('Anonymous'), rssKB: kb('Rss'), gcCount: gcTotals.count, gcMs: gcTotals.ms } });
  } else if (msg.cmd === 'close') {
    await server.close();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true, url: server.url, pid: process.pid, mediaTransport: server.mediaTransport });
