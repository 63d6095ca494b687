// npm run bench:ttff [-- --runs 10 --warmup 1 --gap-ms 1500 --resolution 640x480 --frame-rate N]
//
// Time to first frame in real headless Chromium: a publisher page publishes its fake camera through a
// Convene server (own process, loopback); then, `--runs` times, a fresh subscriber page that has loaded
// /sdk/convene.js calls session.connect(), subscribes to the stream announced at join, and we measure until
// its <video> presents the first frame (requestVideoFrameCallback), with the split of the phases. The pages
// are instrumented from the outside (bench/lib/ttff-page.mjs wraps WebSocket and RTCPeerConnection before
// the SDK loads): no SDK change, no debug hook. Writes bench/results/ttff.json. See bench/README.md.
import { execFileSync, fork } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { createToken } from '@convene/server-sdk';
import { instrument, measureSubscriber, publisherCounters, startPublisher, subscriberCounters } from './lib/ttff-page.mjs';
import { median, medianPhases, PHASES, phasesOf, round } from './lib/ttff-stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

const { values: opt } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '1' },
    'gap-ms': { type: 'string', default: '1500' },
    resolution: { type: 'string', default: '640x480' },
    'frame-rate': { type: 'string' },
    'timeout-ms': { type: 'string', default: '15000' },
    out: { type: 'string', default: join(here, 'results/ttff.json') },
    chromium: { type: 'string', default: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' },
  },
});
const RUNS = Number(opt.runs);
const WARMUP = Number(opt.warmup);
const GAP_MS = Number(opt['gap-ms']);
const TIMEOUT_MS = Number(opt['timeout-ms']);
const FRAME_RATE = opt['frame-rate'] === undefined ? undefined : Number(opt['frame-rate']);

const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  // As after a click on "join": the subscriber plays with sound at once instead of failing audible
  // autoplay first and retrying muted.
  '--autoplay-policy=no-user-gesture-required',
];

const API_KEY = 'ttff_key';
const API_SECRET = 'ttff_secret_0123456789abcdef0123';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.log('[ttff]', ...a);

/** Newest mtime of the files under dir whose name passes `keep`. */
function newest(dir, keep) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = e.name === 'test-helpers' ? t : Math.max(t, newest(p, keep));
    else if (keep(e.name)) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

/** The benchmark runs the built server (dist/) and the built SDK bundle: warn when they are older than their sources. */
function checkBuild() {
  const src = (n) => n.endsWith('.ts') && !n.endsWith('.test.ts');
  const checks = [
    ['packages/server/dist', (n) => n.endsWith('.js'), ['packages/server/src']],
    ['packages/protocol/dist', (n) => n.endsWith('.js'), ['packages/protocol/src']],
    ['packages/client/dist/convene.js', null, ['packages/client/src', 'packages/protocol/src']],
  ];
  for (const [out, keep, srcs] of checks) {
    const f = join(root, out);
    if (!existsSync(f)) throw new Error(`${out} is missing: run \`npm run build\` first`);
    const built = keep ? newest(f, keep) : statSync(f).mtimeMs;
    if (srcs.some((s) => newest(join(root, s), src) > built)) log(`warning: ${out} is older than its sources; run \`npm run build\` to measure the current code`);
  }
}

function startServerChild() {
  return new Promise((resolve, reject) => {
    const child = fork(join(here, 'lib/ttff-server-child.mjs'), [], {
      env: { ...process.env, BENCH_API_KEY: API_KEY, BENCH_API_SECRET: API_SECRET },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`server exited (${code}) before it was ready`)));
    const rtcEvents = [];
    child.on('message', (m) => {
      if (m.rtc) rtcEvents.push(m);
      else if (m.ready) resolve({ child, url: m.url, pid: m.pid, rtcPort: m.rtcPort, rtcEvents });
    });
  });
}

async function stopServerChild(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.send({ cmd: 'close' });
  const t = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
}

/** A local web server for the pages (another origin than the Convene server, as an application's). */
async function startPagesServer(sdkUrl) {
  const page = (body) =>
    `<!doctype html><html><head><meta charset="utf-8"><title>ttff</title><script>(${instrument.toString()})();</script></head>` +
    `<body>${body}<script src="${sdkUrl}"></script></body></html>`;
  const pages = new Map([
    ['/publisher.html', page('<div id="publisher"></div>')],
    ['/subscriber.html', page('<div id="subscribers"></div>')],
  ]);
  const server = createServer((req, res) => {
    const body = pages.get(req.url ?? '');
    res.writeHead(body ? 200 : 404, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(body ?? 'not found');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return { server, url: `http://127.0.0.1:${port}` };
}

function chromiumVersion(path) {
  try {
    return execFileSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim();
  } catch {
    return 'unknown';
  }
}

async function main() {
  checkBuild();
  const sessionId = `ttff-${Date.now()}`;
  const conditions = {
    startedAt: new Date().toISOString(),
    host: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`,
    loadAvgAtStart: loadavg().map((x) => round(x)),
    node: process.version,
    chromium: chromiumVersion(opt.chromium),
    chromiumArgs: CHROMIUM_ARGS,
    network: 'loopback (server, media and both pages on 127.0.0.1)',
    publisher: `Chromium's fake camera, ${opt.resolution}${FRAME_RATE ? ` at ${FRAME_RATE} fps asked` : ''}, VP8, in another page of the same Chromium`,
    runs: RUNS,
    warmupRuns: WARMUP,
    gapBetweenRunsMs: GAP_MS,
  };
  log(`server, chromium ${conditions.chromium}, ${RUNS} runs (+${WARMUP} warm-up)`);

  const srv = await startServerChild();
  const pagesSrv = await startPagesServer(`${srv.url}/sdk/convene.js`);
  const profile = mkdtempSync(join(tmpdir(), 'convene-ttff-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, { executablePath: opt.chromium, headless: true, args: CHROMIUM_ARGS });
    const open = async (path) => {
      const p = await context.newPage();
      p.on('pageerror', (err) => process.stderr.write(`[page error ${path}] ${err.message}\n`));
      await p.goto(`${pagesSrv.url}${path}`);
      await p.waitForFunction(() => typeof window.OT === 'object' && typeof window.__ttff === 'object', null, { timeout: 10_000 });
      return p;
    };
    const token = (role) => createToken({ apiKey: API_KEY, apiSecret: API_SECRET, sessionId, role, ttlSeconds: 3600 });

    // The publisher: already publishing, its encoder warmed up, before the first subscriber comes.
    const pub = await open('/publisher.html');
    const streamId = await pub.evaluate(startPublisher, { apiKey: API_KEY, sessionId, token: await token('publisher'), resolution: opt.resolution, frameRate: FRAME_RATE });
    const deadline = Date.now() + 15_000;
    let enc = await pub.evaluate(publisherCounters);
    while (enc.framesEncoded < 40) {
      if (Date.now() > deadline) throw new Error(`the publisher encodes no video (${JSON.stringify(enc)})`);
      await sleep(200);
      enc = await pub.evaluate(publisherCounters);
    }
    conditions.publisherEncoder = `${enc.encoder} ${enc.frameWidth}x${enc.frameHeight} @ ${enc.framesPerSecond} fps`;
    log(`publisher: stream ${streamId}, ${conditions.publisherEncoder}`);
    await sleep(GAP_MS);

    const runs = [];
    const warmup = [];
    for (let i = 0; i < WARMUP + RUNS; i++) {
      const isWarmup = i < WARMUP;
      const page = await open('/subscriber.html');
      await sleep(200); // let the page go idle after loading the SDK
      const before = await pub.evaluate(publisherCounters);
      const subToken = await token('subscriber');
      let m;
      try {
        m = await page.evaluate(measureSubscriber, { apiKey: API_KEY, sessionId, token: subToken, timeoutMs: TIMEOUT_MS });
      } catch (err) {
        await page.close().catch(() => {});
        throw err;
      }
      await sleep(300); // the receiver's stats settle
      const receiver = await page.evaluate(subscriberCounters);
      const after = await pub.evaluate(publisherCounters);
      // What playback looks like once started: mean jitter-buffer delay over the next 2 s (a start from an
      // older keyframe must not leave the stream played out late), and freezes.
      await sleep(2000);
      const later = await page.evaluate(subscriberCounters);
      const meanMs = (d0, n0, d1, n1) => (n1 > n0 ? round(((d1 - d0) / (n1 - n0)) * 1000) : null);
      await page.evaluate(() => window.session.disconnect()).catch(() => {});
      await page.close();
      // The SFU's side of this subscriber's transport (its first ICE-connected and DTLS-done during the run).
      const inRun = (name) => srv.rtcEvents.find((e) => e.rtc === name && e.at >= m.t0Epoch && e.at <= m.t0Epoch + m.marks.firstFrame + 100);
      for (const [name, mark] of [['iceConnected', 'sfuIceConnected'], ['dtlsDone', 'sfuDtlsDone']]) {
        const e = inRun(name);
        if (e) m.marks[mark] = round(e.at - m.t0Epoch);
      }
      srv.rtcEvents.length = 0;
      const run = {
        totalMs: round(m.marks.firstFrame),
        // How long the SFU's ICE agent connected after Chromium's did (libjuice's triggered-check pacing).
        sfuIceLagMs: typeof m.marks.sfuIceConnected === 'number' && typeof m.marks.iceConnected === 'number' ? round(m.marks.sfuIceConnected - m.marks.iceConnected) : null,
        phases: phasesOf(m.marks),
        t0Epoch: m.t0Epoch,
        marks: m.marks,
        frame: m.frame,
        publisher: {
          // During the run (+300 ms): keyframes the publisher encoded and keyframe requests it got from the SFU.
          keyFramesEncoded: after.keyFramesEncoded - before.keyFramesEncoded,
          pliReceived: after.pliCount - before.pliCount,
          firReceived: after.firCount - before.firCount,
        },
        receiver,
        playback: {
          videoJitterBufferMs: meanMs(receiver.videoJitterBufferDelay, receiver.videoJitterBufferEmitted, later.videoJitterBufferDelay, later.videoJitterBufferEmitted),
          audioJitterBufferMs: meanMs(receiver.audioJitterBufferDelay, receiver.audioJitterBufferEmitted, later.audioJitterBufferDelay, later.audioJitterBufferEmitted),
          framesDecoded: later.framesDecoded - receiver.framesDecoded,
          freezeCount: later.freezeCount,
        },
      };
      (isWarmup ? warmup : runs).push(run);
      log(
        `${isWarmup ? 'warm-up' : `run ${runs.length}/${RUNS}`}: ${run.totalMs} ms  ` +
          PHASES.map((p) => `${p.name} ${run.phases[p.name] ?? '-'}`).join(' | ') +
          `  (SFU ICE ${run.sfuIceLagMs} ms after Chromium's; keyframes ${run.publisher.keyFramesEncoded}, PLI ${run.publisher.pliReceived}; then jitter buffer video ${run.playback.videoJitterBufferMs} ms, audio ${run.playback.audioJitterBufferMs} ms)`,
      );
      await sleep(GAP_MS);
    }
    await pub.evaluate(() => window.session.disconnect()).catch(() => {});

    const totals = runs.map((r) => r.totalMs);
    conditions.loadAvgAtEnd = loadavg().map((x) => round(x));
    conditions.finishedAt = new Date().toISOString();
    const result = {
      runs,
      medianMs: median(totals),
      minMs: totals.length ? Math.min(...totals) : null,
      maxMs: totals.length ? Math.max(...totals) : null,
      phases: medianPhases(runs),
      sfuIceLagMedianMs: median(runs.map((r) => r.sfuIceLagMs)),
      playbackMedians: {
        videoJitterBufferMs: median(runs.map((r) => r.playback.videoJitterBufferMs)),
        audioJitterBufferMs: median(runs.map((r) => r.playback.audioJitterBufferMs)),
      },
      phaseDefinitions: Object.fromEntries(PHASES.map((p) => [p.name, `ends at ${p.end}: ${p.what}`])),
      targetMs: 200,
      conditions,
      warmup,
    };
    mkdirSync(dirname(opt.out), { recursive: true });
    writeFileSync(opt.out, `${JSON.stringify(result, null, 2)}\n`);
    log(`median ${result.medianMs} ms (min ${result.minMs}, max ${result.maxMs}); phase medians ${JSON.stringify(result.phases)}`);
    log(`wrote ${opt.out}`);
  } finally {
    await context?.close().catch(() => {});
    await new Promise((r) => pagesSrv.server.close(() => r()));
    pagesSrv.server.closeAllConnections();
    await stopServerChild(srv.child);
    rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error('[ttff] failed:', err);
  process.exitCode = 1;
});
