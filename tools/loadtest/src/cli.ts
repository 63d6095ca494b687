import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { LoadTestError } from './errors.js';
import { formatReport } from './formatReport.js';
import { runLoadTest } from './LoadTest.js';
import { ProgressDisplay } from './progress.js';
import type { LoadTestReport } from './report.js';

/** Where the CLI writes (the server CLI's CliIo, plus whether stderr is a terminal). */
export interface LoadtestCliIo {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  /** Redraw the progress line in place (default: process.stderr.isTTY). */
  errIsTTY?: boolean;
}

export const USAGE = `Usage: convene loadtest --url <server> --api-key <key> --api-secret <secret> [options]

Load-test a Convene server with bots that need no browser: the client SDK in Node publishing
synthetic but decodable VP8 video and Opus audio (periodic key frames, a send timestamp in every
packet for end-to-end latency), spread over several worker processes. Prints a live progress
line on stderr, then a report; exits 0 when every bot joined, received what it expected and
stayed connected, 1 otherwise, 2 on bad options.

Options:
  --url <url>               Server URL (http:// or https://)
  --api-key <key>           API key (env CONVENE_API_KEY)
  --api-secret <secret>     API secret (env CONVENE_API_SECRET)
  --sessions <n>            Sessions (default 1); the counts below are per session
  --video-publishers <n>    Publishers with video (default 1)
  --audio-publishers <n>    Publishers with audio (default: as many as video publishers).
                            Publisher i sends video if i < video publishers, audio if i < audio
                            publishers: "--video-publishers 1 --audio-publishers 1" is one
                            camera+microphone bot
  --subscribers <n>         Subscribers per session, each subscribing to every stream (default 5)
  --join-rate <n>           Bots joining per second, publishers first (default 20)
  --duration <s>            Measurement window in seconds (default 30)
  --resolution <WxH>        Video resolution (default 640x480)
  --bitrate <bps>           Video bit rate: 600000, 600k or 1.2M (default 600k)
  --fps <n>                 Video frame rate (default 30)
  --keyframe-interval <s>   Seconds between periodic key frames (default 2)
  --workers <n>             Bot processes (default: CPU count, ${availableParallelism()} here)
  --join-timeout <s>        A bot not joined after this long has failed (default 30)
  --bind <addr>             Local address for the bots' media sockets (default: all)
  --json <file>             Also write the full report (every publisher and subscriber) as JSON
  --quiet                   No progress display
  -h, --help                Show this help

Every run is bounded: joins by --join-timeout, the whole run by a hard deadline
(joins at --join-rate + 2 join timeouts + duration + 30 s). Counters in the report are taken
over the measurement window, with publishers paused and the network drained at both edges,
so for every subscribed track: packets received + lost = packets its publisher sent.

Example:
  convene loadtest --url https://video.example.com --api-key K --api-secret S \\
    --sessions 2 --video-publishers 2 --subscribers 20 --duration 60 --json report.json
`;

const OPTIONS = {
  url: { type: 'string' },
  'api-key': { type: 'string' },
  'api-secret': { type: 'string' },
  sessions: { type: 'string' },
  'video-publishers': { type: 'string' },
  'audio-publishers': { type: 'string' },
  subscribers: { type: 'string' },
  'join-rate': { type: 'string' },
  duration: { type: 'string' },
  resolution: { type: 'string' },
  bitrate: { type: 'string' },
  fps: { type: 'string' },
  'keyframe-interval': { type: 'string' },
  workers: { type: 'string' },
  'join-timeout': { type: 'string' },
  bind: { type: 'string' },
  json: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

class UsageError extends Error {}

function num(v: string | undefined, name: string, fallback: number, opts: { integer?: boolean; min?: number } = {}): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || (opts.integer && !Number.isInteger(n)) || n < (opts.min ?? -Infinity)) {
    throw new UsageError(`--${name} must be ${opts.integer ? 'an integer' : 'a number'}${opts.min !== undefined ? ` ≥ ${opts.min}` : ''}, got ${JSON.stringify(v)}`);
  }
  return n;
}

/** `600000`, `600k`, `1.2M` → bit/s. */
export function parseBitrate(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kKmM]?)(?:bps|bit\/s)?$/.exec(v.trim());
  if (!m) throw new UsageError(`--bitrate must look like 600000, 600k or 1.2M, got ${JSON.stringify(v)}`);
  const unit = (m[2] ?? '').toLowerCase();
  return Math.round(Number(m[1]) * (unit === 'k' ? 1e3 : unit === 'm' ? 1e6 : 1));
}

/**
 * `convene loadtest`: parses `argv` (the arguments after the subcommand), runs the load test with
 * a live display on stderr, prints the report on stdout, and resolves with the exit code.
 *
 * @example
 * process.exitCode = await runLoadtestCli(process.argv.slice(3), { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), env: process.env });
 */
export async function runLoadtestCli(argv: string[], io: LoadtestCliIo): Promise<number> {
  let v: ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS; strict: true; allowPositionals: false }>>['values'];
  try {
    ({ values: v } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (err) {
    io.err(`convene loadtest: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (v.help) {
    io.out(USAGE);
    return 0;
  }
  let options: Parameters<typeof runLoadTest>[0];
  try {
    const url = v.url;
    const apiKey = v['api-key'] ?? io.env.CONVENE_API_KEY;
    const apiSecret = v['api-secret'] ?? io.env.CONVENE_API_SECRET;
    if (!url) throw new UsageError('--url is required');
    if (!apiKey || !apiSecret) throw new UsageError('--api-key and --api-secret (or CONVENE_API_KEY / CONVENE_API_SECRET) are required');
    const res = /^(\d{2,4})x(\d{2,4})$/.exec(v.resolution ?? '640x480');
    if (!res) throw new UsageError(`--resolution must look like 640x480, got ${JSON.stringify(v.resolution)}`);
    const videoPublishers = num(v['video-publishers'], 'video-publishers', 1, { integer: true, min: 0 });
    options = {
      url,
      apiKey,
      apiSecret,
      sessions: num(v.sessions, 'sessions', 1, { integer: true, min: 1 }),
      videoPublishers,
      audioPublishers: num(v['audio-publishers'], 'audio-publishers', videoPublishers, { integer: true, min: 0 }),
      subscribers: num(v.subscribers, 'subscribers', 5, { integer: true, min: 0 }),
      joinRate: num(v['join-rate'], 'join-rate', 20, { min: 0.01 }),
      durationS: num(v.duration, 'duration', 30, { min: 0.1 }),
      media: {
        width: Number(res[1]),
        height: Number(res[2]),
        fps: num(v.fps, 'fps', 30, { min: 1 }),
        videoBitrate: v.bitrate === undefined ? 600_000 : parseBitrate(v.bitrate),
        keyframeIntervalMs: num(v['keyframe-interval'], 'keyframe-interval', 2, { min: 0 }) * 1000,
      },
      workers: num(v.workers, 'workers', availableParallelism(), { integer: true, min: 1 }),
      joinTimeoutMs: num(v['join-timeout'], 'join-timeout', 30, { min: 0.1 }) * 1000,
      bindAddress: v.bind,
    };
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`convene loadtest: ${err.message}\n\nRun 'convene loadtest --help' for the options.\n`);
      return 2;
    }
    throw err;
  }

  const display = v.quiet ? null : new ProgressDisplay({ write: (t) => io.err(t), isTTY: io.errIsTTY ?? process.stderr.isTTY === true });
  let report: LoadTestReport;
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  process.once('SIGINT', onSignal);
  try {
    report = await runLoadTest({ ...options, onProgress: (p) => display?.update(p), signal: abort.signal });
  } catch (err) {
    display?.done();
    if (err instanceof LoadTestError) {
      io.err(`convene loadtest: ${err.message}\n`);
      return err.kind === 'usage' ? 2 : 1;
    }
    io.err(`convene loadtest: unexpected failure: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
  }
  display?.done();
  io.out(formatReport(report));
  if (v.json) {
    try {
      writeFileSync(v.json, JSON.stringify(report, null, 2) + '\n');
      io.err(`report written to ${v.json}\n`);
    } catch (err) {
      io.err(`convene loadtest: cannot write ${v.json}: ${(err as Error).message}\n`);
      return 1;
    }
  }
  const problems = verdict(report);
  for (const p of problems) io.err(`convene loadtest: ${p}\n`);
  return problems.length === 0 ? 0 : 1;
}

/** What makes a completed run a failed one (empty = success). */
export function verdict(r: LoadTestReport): string[] {
  const out: string[] = [];
  if (r.bots.failed > 0) out.push(`${r.bots.failed} of ${r.bots.planned} bots failed to join`);
  if (r.bots.disconnected > 0) out.push(`${r.bots.disconnected} bots were dropped by the server during the run`);
  if (r.tracks.received < r.tracks.expected) out.push(`subscribers received ${r.tracks.received} of ${r.tracks.expected} expected tracks`);
  const others = r.errors.filter((e) => e.kind !== 'disconnected' || r.bots.disconnected === 0).length;
  if (out.length === 0 && others > 0) out.push(`${others} bot error(s) during the run (see the report)`);
  return out;
}
