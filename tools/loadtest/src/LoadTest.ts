import { fork, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createToken } from '@convene/server-sdk';
import { LoadTestError } from './errors.js';
import { buildReport, type LoadTestReport } from './report.js';
import type { BotError, BotPlan, BotSnapshot, FromWorker, MediaSettings, Target, ToWorker, WorkerConfig, WorkerProgress } from './types.js';

/** Options of {@link runLoadTest}. Counts are per session. */
export interface LoadTestOptions {
  /** http(s) URL of the Convene server (ignored when `target` is a Janus server). */
  url: string;
  apiKey?: string;
  apiSecret?: string;
  /** Default: the Convene server at `url`. */
  target?: Target;
  sessions?: number;
  /** Publishers with video. Publisher i publishes video if i < videoPublishers and audio if i < audioPublishers. */
  videoPublishers?: number;
  audioPublishers?: number;
  /** Subscribers per session: each subscribes to every stream of its session. */
  subscribers?: number;
  /** Bots joining per second (publishers first, then subscribers). */
  joinRate?: number;
  /** Length of the measurement window, s. */
  durationS?: number;
  media?: Partial<MediaSettings>;
  /** Worker processes (default: the number of CPUs). */
  workers?: number;
  /**
   * Extra worker processes that run only the publishers (default 0: publishers share the workers).
   * Benchmarks use 1 so that the publisher's timing does not suffer from subscriber load.
   */
  publisherWorkers?: number;
  /** A bot that has not joined after this long failed, ms (default 30 000). */
  joinTimeoutMs?: number;
  /** Local address for the bots' media sockets (e.g. 127.0.0.1). */
  bindAddress?: string;
  /** Session names are `<prefix>-<i>` (default `loadtest-<random>`). */
  sessionPrefix?: string;
  /** Pause between "everyone receives" and the start of the window, ms (default 1000). */
  settleMs?: number;
  /** Called about once a second. */
  onProgress?: (p: LoadTestProgress) => void;
  /** Benchmarks hook in here (e.g. to read the server's CPU and memory at the window's edges). */
  hooks?: LoadTestHooks;
  /** Abort the run (the report is not produced). */
  signal?: AbortSignal;
}

/** Points of a run where a benchmark can measure the server. All may be async. */
export interface LoadTestHooks {
  /** Publishers are publishing; no subscriber has joined yet. */
  publishersReady?: () => unknown;
  /** Publishers paused, network drained, counters read: the window starts when this returns. */
  windowStart?: () => unknown;
  /** Publishers still sending, just before the window's end (e.g. to read memory under load). */
  beforeWindowEnd?: () => unknown;
  /** Publishers paused again, counters read: the window ended. */
  windowEnd?: () => unknown;
}

/** Phases of a run, in order. */
export type LoadTestPhase = 'preflight' | 'publishers' | 'subscribers' | 'settle' | 'measure' | 'teardown';

/** What the live display shows. */
export interface LoadTestProgress extends WorkerProgress {
  phase: LoadTestPhase;
  elapsedS: number;
  planned: number;
  /** Loss over the workers' last report interval (2 s), %. */
  lossPct: number;
  /** Seconds left in the measurement window (measure phase). */
  remainingS: number | null;
}

interface WorkerHandle {
  child: ChildProcess;
  progress: WorkerProgress;
  exited: boolean;
  stderr: string;
}

const DEFAULT_MEDIA: MediaSettings = { width: 640, height: 480, fps: 30, videoBitrate: 600_000, keyframeIntervalMs: 2000 };

/** Where the compiled worker script is (tests run on sources, the worker always runs compiled). */
function workerScript(): string {
  const here = fileURLToPath(import.meta.url);
  const file = here.endsWith('.ts') ? join(dirname(here), '..', 'dist', 'worker.js') : join(dirname(here), 'worker.js');
  if (!existsSync(file)) throw new LoadTestError('usage', `the load-test worker ${file} is missing: build first (npm run build)`);
  return file;
}

/** One GET to `url`: resolves on any HTTP answer, rejects on a network error or after `timeoutMs`. */
function httpProbe(url: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, { method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve();
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end();
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Runs a load test: plans the bots, spreads them over worker processes, joins them at the join
 * rate (publishers first), waits until every subscriber receives every track, measures over a
 * window of `durationS` seconds and returns the report. Every run is bounded in time: each join
 * by `joinTimeoutMs`, the whole run by a hard deadline.
 *
 * Throws {@link LoadTestError} when no report can be produced: the server cannot be reached,
 * rejects the credentials, or the run overran its deadline. Errors of single bots (a failed
 * join, a bot the server dropped) are in the report.
 *
 * @example
 * const report = await runLoadTest({ url: 'https://video.example.com', apiKey, apiSecret, videoPublishers: 2, subscribers: 10, durationS: 30 });
 * console.log(report.totals.lossPct, report.totals.latencyP99Ms);
 */
export async function runLoadTest(options: LoadTestOptions): Promise<LoadTestReport> {
  const o = normalise(options);
  const run = new Run(o);
  try {
    return await run.execute();
  } finally {
    await run.shutdown();
  }
}

type Normalised = Required<Omit<LoadTestOptions, 'apiKey' | 'apiSecret' | 'bindAddress' | 'onProgress' | 'hooks' | 'signal' | 'media' | 'target'>> & {
  apiKey: string;
  apiSecret: string;
  bindAddress: string | undefined;
  onProgress: ((p: LoadTestProgress) => void) | undefined;
  hooks: LoadTestHooks;
  signal: AbortSignal | undefined;
  media: MediaSettings;
  target: Target;
};

function normalise(o: LoadTestOptions): Normalised {
  const n: Normalised = {
    url: o.url,
    apiKey: o.apiKey ?? '',
    apiSecret: o.apiSecret ?? '',
    target: o.target ?? { kind: 'convene', url: o.url },
    sessions: o.sessions ?? 1,
    videoPublishers: o.videoPublishers ?? 1,
    audioPublishers: o.audioPublishers ?? o.videoPublishers ?? 1,
    subscribers: o.subscribers ?? 1,
    joinRate: o.joinRate ?? 20,
    durationS: o.durationS ?? 30,
    media: { ...DEFAULT_MEDIA, ...o.media },
    workers: o.workers ?? availableParallelism(),
    publisherWorkers: o.publisherWorkers ?? 0,
    joinTimeoutMs: o.joinTimeoutMs ?? 30_000,
    bindAddress: o.bindAddress,
    sessionPrefix: o.sessionPrefix ?? `loadtest-${randomBytes(3).toString('hex')}`,
    settleMs: o.settleMs ?? 1000,
    onProgress: o.onProgress,
    hooks: o.hooks ?? {},
    signal: o.signal,
  };
  const int = (v: number, min: number, name: string): void => {
    if (!Number.isInteger(v) || v < min) throw new LoadTestError('usage', `${name} must be an integer ≥ ${min}, got ${v}`);
  };
  int(n.sessions, 1, 'sessions');
  int(n.videoPublishers, 0, 'video publishers');
  int(n.audioPublishers, 0, 'audio publishers');
  int(n.subscribers, 0, 'subscribers');
  int(n.workers, 1, 'workers');
  int(n.publisherWorkers, 0, 'publisher workers');
  if (n.videoPublishers + n.audioPublishers === 0 && n.subscribers > 0) throw new LoadTestError('usage', 'subscribers need at least one video or audio publisher');
  if (n.videoPublishers + n.audioPublishers + n.subscribers === 0) throw new LoadTestError('usage', 'nothing to run: no publishers and no subscribers');
  if (!(n.joinRate > 0)) throw new LoadTestError('usage', `join rate must be > 0, got ${n.joinRate}`);
  if (!(n.durationS > 0)) throw new LoadTestError('usage', `duration must be > 0 s, got ${n.durationS}`);
  if (!(n.joinTimeoutMs > 0)) throw new LoadTestError('usage', `join timeout must be > 0 ms`);
  if (n.target.kind === 'convene') {
    if (!/^https?:\/\//.test(n.target.url)) throw new LoadTestError('usage', `--url must be an http(s) URL, got ${JSON.stringify(n.target.url)}`);
    if (!n.apiKey || !n.apiSecret) throw new LoadTestError('usage', 'an API key and secret are required');
  }
  return n;
}

/** One run: owns its worker processes and timers. */
class Run {
  readonly #o: Normalised;
  readonly #workers: WorkerHandle[] = [];
  readonly #startedAt = new Date();
  readonly #t0 = performance.now();
  #phase: LoadTestPhase = 'preflight';
  #failure: LoadTestError | null = null;
  #onFailure: (() => void) | null = null;
  readonly #joined = new Set<string>();
  readonly #failed = new Set<string>();
  readonly #errors: (BotError & { bot: string })[] = [];
  #snapSeq = 0;
  #progressTimer: NodeJS.Timeout | undefined;
  #deadline: NodeJS.Timeout | undefined;
  #measureEndsAt: number | null = null;
  #plans: BotPlan[] = [];
  #pausedAt = 0;

  constructor(o: Normalised) {
    this.#o = o;
  }

  async execute(): Promise<LoadTestReport> {
    const o = this.#o;
    const publishers = Math.max(o.videoPublishers, o.audioPublishers);
    const tracksPerSession = o.videoPublishers + o.audioPublishers;
    const botCount = o.sessions * (publishers + o.subscribers);
    // Hard deadline: joining at the join rate, one join timeout, the window, and room for the drains and teardown.
    const deadlineMs = (botCount / o.joinRate) * 1000 + 2 * o.joinTimeoutMs + o.settleMs + o.durationS * 1000 + 30_000;
    const aborted = new Promise<never>((_, reject) => {
      this.#onFailure = () => reject(this.#failure);
      this.#deadline = setTimeout(() => this.#fail(new LoadTestError('deadline', `the run did not finish within its hard deadline (${Math.round(deadlineMs / 1000)} s)`)), deadlineMs);
      o.signal?.addEventListener('abort', () => this.#fail(new LoadTestError('aborted', 'the run was aborted')), { once: true });
    });
    aborted.catch(() => {});
    return Promise.race([this.#execute(publishers, tracksPerSession), aborted]);
  }

  async #execute(publisherCount: number, tracksPerSession: number): Promise<LoadTestReport> {
    const o = this.#o;
    if (o.target.kind === 'convene') await this.#preflight(o.target.url);

    const plans: BotPlan[] = [];
    const expectedTracks: Record<string, number> = {};
    for (let s = 0; s < o.sessions; s++) {
      const session = `${o.sessionPrefix}-${s}`;
      expectedTracks[session] = tracksPerSession;
      for (let i = 0; i < publisherCount; i++) {
        plans.push({ id: `s${s}-pub${i}`, role: 'publisher', session, video: i < o.videoPublishers, audio: i < o.audioPublishers });
      }
      for (let i = 0; i < o.subscribers; i++) plans.push({ id: `s${s}-sub${i}`, role: 'subscriber', session, video: false, audio: false });
    }
    if (o.target.kind === 'convene') {
      for (const p of plans) {
        p.token = await createToken({ apiKey: o.apiKey, apiSecret: o.apiSecret, sessionId: p.session, role: p.role === 'publisher' ? 'publisher' : 'subscriber', userName: p.id, ttlSeconds: 86_400 });
      }
    }
    this.#plans = plans;

    const config: WorkerConfig = { target: o.target, media: o.media, joinTimeoutMs: o.joinTimeoutMs, bindAddress: o.bindAddress, expectedTracks };
    const pubs = plans.filter((p) => p.role === 'publisher');
    const subs = plans.filter((p) => p.role === 'subscriber');
    const pubWorkers = pubs.length > 0 && subs.length > 0 ? Math.min(o.publisherWorkers, pubs.length) : 0;
    await this.#startWorkers(pubWorkers + Math.max(1, Math.min(o.workers, pubWorkers > 0 ? subs.length : plans.length)), config);
    // Publishers on the first workers; with dedicated publisher workers, subscribers on the others only.
    const pubPool = pubWorkers > 0 ? this.#workers.slice(0, pubWorkers) : this.#workers;
    const subPool = pubWorkers > 0 ? this.#workers.slice(pubWorkers) : this.#workers;
    this.#progressTimer = setInterval(() => this.#emitProgress(), 1000);

    // Publishers first: subscribers need their streams.
    this.#phase = 'publishers';
    await this.#joinAll(pubs, pubPool, 0);
    if (pubs.length > 0 && pubs.every((p) => this.#failed.has(p.id))) {
      // Nothing to subscribe to: say why instead of running subscribers against nothing.
      const first = this.#errors.find((e) => pubs.some((p) => p.id === e.bot));
      throw new LoadTestError('media', `none of the ${pubs.length} publishers could publish${first ? ` (${first.kind}: ${first.message})` : ''}`);
    }
    await o.hooks.publishersReady?.();
    this.#phase = 'subscribers';
    await this.#joinAll(subs, subPool, pubWorkers > 0 ? 0 : pubs.length);
    this.#phase = 'settle';
    await this.#waitForTracks(o.joinTimeoutMs);
    await sleep(o.settleMs);

    // Window start: pause publishers and let the network drain, so both ends' counters agree.
    const start = await this.#quiesce();
    await o.hooks.windowStart?.();
    const tStart = performance.now();
    await this.#broadcast({ cmd: 'resume' }, 'resumed');
    this.#phase = 'measure';
    this.#measureEndsAt = performance.now() + o.durationS * 1000;
    await this.#measure(o.durationS * 1000 - 300);
    await o.hooks.beforeWindowEnd?.();
    const left = (this.#measureEndsAt ?? 0) - performance.now();
    if (left > 0) await this.#measure(left);
    const end = await this.#quiesce();
    // Publishers sent from the resume to the pause: the window's rates are over that time.
    const windowSeconds = (this.#pausedAt - tStart) / 1000;
    await o.hooks.windowEnd?.();
    this.#phase = 'teardown';
    this.#emitProgress();

    return buildReport({
      startedAt: this.#startedAt,
      target: o.target.kind === 'convene' ? o.target.url : `janus ${o.target.url}`,
      config: {
        sessions: o.sessions,
        videoPublishers: o.videoPublishers,
        audioPublishers: o.audioPublishers,
        subscribersPerSession: o.subscribers,
        joinRate: o.joinRate,
        durationS: o.durationS,
        resolution: `${o.media.width}x${o.media.height}`,
        fps: o.media.fps,
        videoBitrate: o.media.videoBitrate,
        keyframeIntervalMs: o.media.keyframeIntervalMs,
        workers: this.#workers.length,
      },
      planned: plans.length,
      start,
      end: this.#withUnjoined(end),
      windowSeconds,
    });
  }

  /** Fail fast on an unreachable server or rejected credentials, before any worker starts. */
  async #preflight(url: string): Promise<void> {
    try {
      await httpProbe(url, Math.min(this.#o.joinTimeoutMs, 10_000));
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new LoadTestError('unreachable', `cannot reach the server at ${url} (${e.code ?? e.message})`, { cause: err });
    }
    const { initSession, AuthenticationError } = await import('@convene/client');
    const session = initSession(this.#o.apiKey, `${this.#o.sessionPrefix}-0`, { serverUrl: url, connectTimeoutMs: Math.min(this.#o.joinTimeoutMs, 10_000) });
    const token = await createToken({ apiKey: this.#o.apiKey, apiSecret: this.#o.apiSecret, sessionId: `${this.#o.sessionPrefix}-0`, role: 'subscriber', userName: 'loadtest-probe', ttlSeconds: 600 });
    try {
      await session.connect(token);
    } catch (err) {
      if (err instanceof AuthenticationError) {
        throw new LoadTestError('auth', `the server rejected the credentials (${err.message}): check --api-key and --api-secret`, { cause: err });
      }
      throw new LoadTestError('unreachable', `cannot join a session on ${url} (${(err as Error).message})`, { cause: err });
    }
    await session.disconnect().catch(() => {});
  }

  async #startWorkers(count: number, config: WorkerConfig): Promise<void> {
    const script = workerScript();
    const ready: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      // Diagnostics: CONVENE_LOADTEST_WORKER_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the workers.
      const execArgv = (process.env.CONVENE_LOADTEST_WORKER_ARGS ?? '').split(' ').filter(Boolean);
      const child = fork(script, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv });
      const h: WorkerHandle = {
        child,
        exited: false,
        stderr: '',
        progress: { joined: 0, tracksReceiving: 0, tracksExpected: 0, packetsReceived: 0, packetsLost: 0, bytesReceived: 0, errors: 0, disconnected: 0, bitrate: 0, intervalPackets: 0, intervalLost: 0 },
      };
      child.stderr?.on('data', (d: Buffer) => {
        h.stderr = (h.stderr + d.toString()).slice(-4000);
      });
      child.on('message', (m: FromWorker) => this.#onMessage(h, m));
      ready.push(
        new Promise<void>((resolve, reject) => {
          const onMsg = (m: FromWorker): void => {
            if (m.ev === 'ready') {
              child.off('message', onMsg);
              resolve();
            }
          };
          child.on('message', onMsg);
          child.once('exit', (code) => reject(new LoadTestError('workers', `worker ${i} exited with code ${code} before it was ready: ${h.stderr.trim().slice(-500)}`)));
        }),
      );
      child.on('exit', (code, signal) => {
        h.exited = true;
        if (this.#phase !== 'teardown' && this.#failure === null) {
          this.#fail(new LoadTestError('workers', `worker ${i} died (${signal ?? `exit code ${code}`}): ${h.stderr.trim().slice(-800) || 'no output'}`));
        }
      });
      this.#workers.push(h);
      child.send({ cmd: 'init', config } satisfies ToWorker);
    }
    await Promise.all(ready);
  }

  #onMessage(h: WorkerHandle, m: FromWorker): void {
    switch (m.ev) {
      case 'joined':
        this.#joined.add(m.botId);
        break;
      case 'error':
        this.#errors.push({ bot: m.botId, ...m.error });
        if (!this.#joined.has(m.botId) && m.error.kind !== 'disconnected' && m.error.kind !== 'media') this.#failed.add(m.botId);
        if (m.error.kind === 'auth') {
          this.#fail(new LoadTestError('auth', `the server rejected bot ${m.botId}'s token (${m.error.message}): check --api-key and --api-secret`));
        }
        break;
      case 'progress':
        h.progress = m.progress;
        break;
      default:
        break;
    }
  }

  /** Joins `plans` at the join rate, round-robin over the workers; resolves when each joined or failed. */
  async #joinAll(plans: BotPlan[], pool: WorkerHandle[], offset: number): Promise<void> {
    const interval = 1000 / this.#o.joinRate;
    const t0 = performance.now();
    for (let i = 0; i < plans.length; i++) {
      this.#check();
      const due = t0 + i * interval - performance.now();
      if (due > 0) await sleep(due);
      const plan = plans[i] as BotPlan;
      const w = pool[(offset + i) % pool.length] as WorkerHandle;
      w.child.send({ cmd: 'join', bot: plan } satisfies ToWorker);
    }
    const ids = plans.map((p) => p.id);
    const limit = performance.now() + this.#o.joinTimeoutMs + 2000;
    while (ids.some((id) => !this.#joined.has(id) && !this.#failed.has(id)) && performance.now() < limit) {
      this.#check();
      await sleep(50);
    }
  }

  /** Waits until every joined subscriber receives every track of its session (or `timeoutMs`). */
  async #waitForTracks(timeoutMs: number): Promise<void> {
    const limit = performance.now() + timeoutMs;
    while (performance.now() < limit) {
      this.#check();
      const bots = await this.#snapshot();
      const subs = bots.filter((b) => b.role === 'subscriber' && b.joined && b.connected);
      if (subs.every((b) => b.received.filter((t) => t.packetsReceived > 0).length >= b.tracksExpected)) return;
      await sleep(250);
    }
  }

  /** Pauses publishers, waits until no packet moves, and returns that snapshot. Publishers stay paused. */
  async #quiesce(): Promise<BotSnapshot[]> {
    this.#pausedAt = performance.now();
    await this.#broadcast({ cmd: 'pause' }, 'paused');
    const total = (bots: BotSnapshot[]): number =>
      bots.reduce((a, b) => a + b.sent.reduce((x, t) => x + t.packetsSent + t.packetsRetransmitted, 0) + b.received.reduce((x, t) => x + t.packetsReceived + t.packetsLost, 0), 0);
    let prev = total(await this.#snapshot());
    let stable = 0;
    const limit = performance.now() + 5000;
    for (;;) {
      await sleep(150);
      const bots = await this.#snapshot();
      const now = total(bots);
      stable = now === prev ? stable + 1 : 0;
      prev = now;
      if (stable >= 3 || performance.now() > limit) return bots;
    }
  }

  async #measure(ms: number): Promise<void> {
    const end = performance.now() + ms;
    while (performance.now() < end) {
      this.#check();
      if (this.#allDropped()) return;
      await sleep(Math.min(200, end - performance.now()));
    }
  }

  /** Every bot that had joined lost its connection: nothing left to measure. */
  #allDropped(): boolean {
    const joined = this.#workers.reduce((a, w) => a + w.progress.joined, 0);
    const dropped = this.#workers.reduce((a, w) => a + w.progress.disconnected, 0);
    return joined > 0 && dropped >= joined;
  }

  async #snapshot(): Promise<BotSnapshot[]> {
    const seq = ++this.#snapSeq;
    const parts = await Promise.all(
      this.#live().map(
        (w) =>
          new Promise<BotSnapshot[]>((resolve, reject) => {
            const timer = setTimeout(() => {
              w.child.off('message', on);
              reject(new LoadTestError('workers', 'a worker did not answer a snapshot request within 10 s'));
            }, 10_000);
            const on = (m: FromWorker): void => {
              if (m.ev === 'snapshot' && m.seq === seq) {
                clearTimeout(timer);
                w.child.off('message', on);
                resolve(m.bots);
              }
            };
            w.child.on('message', on);
            w.child.send({ cmd: 'snapshot', seq } satisfies ToWorker);
          }),
      ),
    );
    return parts.flat();
  }

  async #broadcast(msg: ToWorker, ack: FromWorker['ev']): Promise<void> {
    await Promise.all(
      this.#live().map(
        (w) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
              w.child.off('message', on);
              resolve();
            }, 5000);
            const on = (m: FromWorker): void => {
              if (m.ev === ack) {
                clearTimeout(timer);
                w.child.off('message', on);
                resolve();
              }
            };
            w.child.on('message', on);
            w.child.send(msg);
          }),
      ),
    );
  }

  #live(): WorkerHandle[] {
    return this.#workers.filter((w) => !w.exited && w.child.connected);
  }

  /** Bots that never joined (their worker may hold no snapshot of them): keep them in the report as failed. */
  #withUnjoined(end: BotSnapshot[]): BotSnapshot[] {
    const seen = new Set(end.map((b) => b.id));
    const missing = this.#plans.filter((p) => !seen.has(p.id));
    return [
      ...end,
      ...missing.map((p) => ({
        id: p.id,
        role: p.role,
        session: p.session,
        joined: false,
        joinMs: null,
        subscribeMs: [],
        sent: [],
        received: [],
        tracksExpected: 0,
        errors: this.#errors.filter((e) => e.bot === p.id).map(({ bot: _bot, ...e }) => e),
        connected: false,
      })),
    ];
  }

  #emitProgress(): void {
    const cb = this.#o.onProgress;
    const sum = (f: keyof WorkerProgress): number => this.#workers.reduce((a, w) => a + w.progress[f], 0);
    const now = performance.now();
    const packets = sum('intervalPackets');
    const lost = sum('intervalLost');
    const p: LoadTestProgress = {
      phase: this.#phase,
      elapsedS: (now - this.#t0) / 1000,
      planned: this.#plans.length,
      joined: sum('joined'),
      tracksReceiving: sum('tracksReceiving'),
      tracksExpected: sum('tracksExpected'),
      packetsReceived: sum('packetsReceived'),
      packetsLost: sum('packetsLost'),
      bytesReceived: sum('bytesReceived'),
      errors: this.#errors.length,
      disconnected: sum('disconnected'),
      bitrate: sum('bitrate'),
      intervalPackets: packets,
      intervalLost: lost,
      lossPct: packets + lost > 0 ? (100 * lost) / (packets + lost) : 0,
      remainingS: this.#phase === 'measure' && this.#measureEndsAt !== null ? Math.max(0, (this.#measureEndsAt - now) / 1000) : null,
    };
    try {
      cb?.(p);
    } catch {
      // A throwing display must not break the run.
    }
  }

  /** Throws the recorded failure (if any) at the next check point. */
  #check(): void {
    if (this.#failure) throw this.#failure;
  }

  #fail(e: LoadTestError): void {
    if (this.#failure) return;
    this.#failure = e;
    this.#onFailure?.();
  }

  /** Stops every worker (politely, then by force) and every timer. Idempotent. */
  async shutdown(): Promise<void> {
    this.#phase = 'teardown';
    clearInterval(this.#progressTimer);
    clearTimeout(this.#deadline);
    await Promise.all(
      this.#workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.exited) return resolve();
            const kill = setTimeout(() => {
              w.child.kill('SIGKILL');
            }, 8000);
            w.child.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            if (w.child.connected) w.child.send({ cmd: 'stop' } satisfies ToWorker);
            else w.child.kill('SIGTERM');
          }),
      ),
    );
  }
}
