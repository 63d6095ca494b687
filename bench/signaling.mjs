#!/usr/bin/env node
// npm run bench:signaling [-- --n 5000 --workers 4 --broadcasts 20]
// Joins N bots (the client SDK in Node, no media, several processes) to ONE session on one server and
// measures: time for all to join, server memory per connection, and broadcast signal latency to all.
// Writes bench/results/signaling.json as { n, joinAllMs, memoryPerConnectionKB, broadcast: { p50Ms, p99Ms } }.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '5000' },
    workers: { type: 'string', default: '4' },
    broadcasts: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '50' },
    out: { type: 'string', default: join(here, 'results', 'signaling.json') },
  },
});
const N = Number(values.n);
const W = Math.min(Number(values.workers), N);
const B = Number(values.broadcasts);
const apiKey = 'bench-' + randomBytes(4).toString('hex');
const apiSecret = randomBytes(24).toString('base64url');
const sessionName = 'bench-signaling';

const log = (...a) => process.stderr.write(a.join(' ') + '\n');

function request(child, msg, pick) {
  return new Promise((resolve, reject) => {
    const onMsg = (m) => {
      if (m.error) {
        child.off('message', onMsg);
        reject(new Error(m.error));
      } else if (pick(m)) {
        child.off('message', onMsg);
        resolve(m);
      }
    };
    child.on('message', onMsg);
    if (msg) child.send(msg);
  });
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

const server = fork(join(here, 'lib', 'server-child.mjs'), [], {
  execArgv: ['--expose-gc'],
  env: { ...process.env, BENCH_API_KEY: apiKey, BENCH_API_SECRET: apiSecret },
});
const { url } = await request(server, null, (m) => m.ready);
const rss = async () => (await request(server, { cmd: 'rss' }, (m) => m.rss !== undefined)).rss;
log(`server at ${url}`);

// Baseline: one small warm-up session so code paths are loaded, then idle RSS.
const per = Math.ceil(N / W);
const workers = [];
for (let w = 0; w < W; w++) {
  const first = w * per;
  const count = Math.max(0, Math.min(per, N - first));
  const child = fork(join(here, 'lib', 'signaling-bot.mjs'), [], {
    execArgv: ['--max-old-space-size=8192'],
    env: { ...process.env, BOT_CONFIG: JSON.stringify({ url, apiKey, apiSecret, sessionName, first, count, concurrency: Number(values.concurrency) }) },
  });
  await request(child, null, (m) => m.ready);
  workers.push(child);
}
const rss0 = await rss();
log(`baseline RSS ${(rss0 / 1048576).toFixed(1)} MB; joining ${N} bots from ${W} processes`);

const t0 = performance.timeOrigin + performance.now();
const joins = await Promise.all(workers.map((c) => request(c, { cmd: 'join' }, (m) => m.joined !== undefined)));
const joinAllMs = Math.max(...joins.map((j) => j.doneAt)) - t0;
const joined = joins.reduce((a, j) => a + j.joined, 0);
const errorCount = joins.reduce((a, j) => a + j.errorCount, 0);
log(`joined ${joined}/${N} in ${joinAllMs.toFixed(0)} ms (${errorCount} errors ${joins.flatMap((j) => j.errors).slice(0, 3).join(' | ')})`);

// Let connection events drain, then measure.
await new Promise((r) => setTimeout(r, 3000 + N));
const rss1 = await rss();
const memoryPerConnectionKB = (rss1 - rss0) / 1024 / Math.max(1, joined);
log(`RSS with ${joined} connected ${(rss1 / 1048576).toFixed(1)} MB -> ${memoryPerConnectionKB.toFixed(1)} KB per connection`);

const lat = [];
for (let k = 0; k < B; k++) {
  await request(workers[k % W], { cmd: 'broadcast', k }, (m) => m.sent === k);
  await new Promise((r) => setTimeout(r, 300 + N / 10));
}
await new Promise((r) => setTimeout(r, 1000));
for (const c of workers) lat.push(...(await request(c, { cmd: 'latencies' }, (m) => m.latencies)).latencies);
lat.sort((a, b) => a - b);
const expected = B * joined;
const result = {
  n: N,
  joinAllMs: Math.round(joinAllMs),
  memoryPerConnectionKB: Number(memoryPerConnectionKB.toFixed(1)),
  broadcast: { p50Ms: Number(percentile(lat, 50)?.toFixed(1)), p99Ms: Number(percentile(lat, 99)?.toFixed(1)) },
  detail: {
    joined,
    joinErrors: errorCount,
    workers: W,
    broadcasts: B,
    deliveries: lat.length,
    deliveriesExpected: expected,
    rssIdleMB: Number((rss0 / 1048576).toFixed(1)),
    rssLoadedMB: Number((rss1 / 1048576).toFixed(1)),
    node: process.version,
    date: new Date().toISOString(),
  },
};
log(JSON.stringify(result, null, 2));
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, JSON.stringify(result, null, 2) + '\n');

for (const c of workers) c.send({ cmd: 'close' });
server.send({ cmd: 'close' });
setTimeout(() => process.exit(0), 2000).unref();
