import { startServer, type ConveneServer } from '@convene/server';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { runLoadtestCli } from './cli.js';
import type { LoadTestReport } from './report.js';

/*
 * The load tester end to end: a real server on port 0 with its SFU, bots in real worker
 * processes (the compiled worker: `npm test` builds first), real RTP through the SFU.
 */

const API_KEY = 'loadtest_key';
const API_SECRET = 'loadtest_secret_0123456789abcdef';

let server: ConveneServer;

beforeAll(async () => {
  server = await startServer({ port: 0, apiKey: API_KEY, apiSecret: API_SECRET, logLevel: 'silent' });
});
afterAll(async () => {
  await server.close();
});

/** A CLI io that records what was written. */
function captureIo(): { out: string; err: string; io: Parameters<typeof runLoadtestCli>[1] } {
  const c = {
    out: '',
    err: '',
    io: {
      out: (t: string) => {
        c.out += t;
      },
      err: (t: string) => {
        c.err += t;
      },
      env: {},
      errIsTTY: false,
    },
  };
  return c;
}

describe('a short run against a real server (1 publisher, 2 subscribers)', () => {
  let report: LoadTestReport;

  let code: number;
  let out: string;

  // Through the CLI, as a user runs it; the numbers are read back from --json.
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'convene-loadtest-'));
    const file = join(dir, 'report.json');
    const c = captureIo();
    code = await runLoadtestCli(
      ['--url', server.url, '--api-key', API_KEY, '--api-secret', API_SECRET, '--video-publishers', '1', '--audio-publishers', '1', '--subscribers', '2', '--duration', '3', '--workers', '2', '--bind', '127.0.0.1', '--resolution', '320x240', '--bitrate', '300k', '--join-timeout', '15', '--json', file],
      c.io,
    );
    out = c.out;
    report = JSON.parse(readFileSync(file, 'utf8')) as LoadTestReport;
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('exits 0 and prints the report', () => {
    expect(code).toBe(0);
    expect(out).toContain('Tracks     4/4 received');
    expect(out).toMatch(/Packets {4}\d+ sent by publishers, \d+ received by subscribers, \d+ lost/);
  });

  it('every bot joins and nothing fails', () => {
    expect(report.bots).toEqual({ planned: 3, joined: 3, failed: 0, disconnected: 0 });
    expect(report.errors).toEqual([]);
  });

  it('tracks expected equal tracks received (2 subscribers × video + audio)', () => {
    expect(report.tracks).toEqual({ expected: 4, received: 4 });
    for (const s of report.subscribers) {
      expect(s.tracksExpected).toBe(2);
      expect(s.tracksReceived).toBe(2);
    }
  });

  it('per subscribed track, packets received + lost equal the packets its publisher sent in the window', () => {
    expect(report.subscribers).toHaveLength(2);
    for (const s of report.subscribers) {
      expect(s.tracks.map((t) => t.kind).sort()).toEqual(['audio', 'video']);
      for (const t of s.tracks) {
        expect(t.packetsSent).toBeGreaterThan(0);
        expect(t.packets + t.lost).toBe(t.packetsSent);
      }
    }
    const sent = report.publishers.flatMap((p) => p.tracks).reduce((a, t) => a + t.packets, 0);
    expect(report.totals.packetsSent).toBe(sent);
    expect(report.totals.packetsReceived + report.totals.packetsLost).toBe(2 * sent);
  });

  it('the window holds about duration × rate packets: 50 audio packets/s and 30 video frames/s', () => {
    const pub = report.publishers[0]!;
    const audio = pub.tracks.find((t) => t.kind === 'audio')!;
    const video = pub.tracks.find((t) => t.kind === 'video')!;
    const w = report.windowSeconds;
    expect(w).toBeGreaterThanOrEqual(3);
    expect(audio.packets).toBeGreaterThan(50 * 3 * 0.8);
    expect(audio.packets).toBeLessThan(50 * w * 1.2);
    const frames = report.subscribers[0]!.tracks.find((t) => t.kind === 'video')!.frames;
    expect(frames).toBeGreaterThan(30 * 3 * 0.8);
    expect(video.bitrate).toBeGreaterThan(300_000 * 0.5);
    expect(video.bitrate).toBeLessThan(300_000 * 1.6);
  });

  it('latency p50/p99 and join times are measured', () => {
    for (const s of report.subscribers) {
      for (const t of s.tracks) {
        expect(t.latencyP50Ms).not.toBeNull();
        expect(t.latencyP99Ms!).toBeGreaterThanOrEqual(t.latencyP50Ms!);
      }
    }
    expect(report.join.p50Ms).toBeGreaterThan(0);
    expect(report.join.p99Ms!).toBeGreaterThanOrEqual(report.join.p50Ms!);
    expect(report.firstFrame.p50Ms).toBeGreaterThan(0);
  });
});

describe('convene loadtest (CLI)', () => {
  it('--help prints the options and exits 0', async () => {
    const c = captureIo();
    expect(await runLoadtestCli(['--help'], c.io)).toBe(0);
    expect(c.out).toContain('--video-publishers');
    expect(c.out).toContain('--json <file>');
  });

  it('exits 2 with a clear message when --url is missing', async () => {
    const c = captureIo();
    expect(await runLoadtestCli(['--api-key', 'k', '--api-secret', 's'], c.io)).toBe(2);
    expect(c.err).toContain('--url is required');
  });

  it('a wrong secret fails fast: exit 1 and a message about the credentials, within 5 s', async () => {
    const c = captureIo();
    const t0 = Date.now();
    const code = await runLoadtestCli(['--url', server.url, '--api-key', API_KEY, '--api-secret', 'not-the-secret-at-all', '--duration', '30', '--quiet'], c.io);
    expect(code).toBe(1);
    expect(c.err).toMatch(/rejected the credentials.*check --api-key and --api-secret/);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('an unreachable URL fails fast: exit 1 and "cannot reach the server", within 5 s', async () => {
    // A port that was just free: listen, note it, close.
    const probe = await startServer({ port: 0, apiKey: API_KEY, apiSecret: API_SECRET, logLevel: 'silent' });
    const url = probe.url;
    await probe.close();
    const c = captureIo();
    const t0 = Date.now();
    const code = await runLoadtestCli(['--url', url, '--api-key', API_KEY, '--api-secret', API_SECRET, '--quiet'], c.io);
    expect(code).toBe(1);
    expect(c.err).toContain(`cannot reach the server at ${url} (ECONNREFUSED)`);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('a server that accepts connections but never answers: exit 1 within the join timeout, not a hang', async () => {
    const http = createServer((_req, res) => res.end('ok'));
    const wss = new WebSocketServer({ server: http }); // accepts the socket, never says a word
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const c = captureIo();
    const t0 = Date.now();
    try {
      const code = await runLoadtestCli(['--url', url, '--api-key', API_KEY, '--api-secret', API_SECRET, '--join-timeout', '2', '--quiet'], c.io);
      expect(code).toBe(1);
      expect(c.err).toContain(`cannot join a session on ${url}`);
      expect(Date.now() - t0).toBeLessThan(5000);
    } finally {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await new Promise((r) => http.close(r));
    }
  }, 15_000);

  it('a server that goes away mid-run: the run ends with a report of dropped bots, a message and exit 1', async () => {
    const doomed = await startServer({ port: 0, apiKey: API_KEY, apiSecret: API_SECRET, logLevel: 'silent' });
    const c = captureIo();
    let closing: Promise<void> | null = null;
    const t0 = Date.now();
    const code = await runLoadtestCli(
      ['--url', doomed.url, '--api-key', API_KEY, '--api-secret', API_SECRET, '--subscribers', '2', '--duration', '20', '--workers', '1', '--bind', '127.0.0.1', '--resolution', '320x240', '--bitrate', '200k'],
      {
        ...c.io,
        // The progress line says when the window started: take the server down then.
        err: (t: string) => {
          c.err += t;
          if (!closing && t.includes('measure')) closing = doomed.close();
        },
      },
    );
    await closing;
    expect(closing).not.toBeNull();
    expect(code).toBe(1);
    expect(c.err).toMatch(/bots were dropped by the server during the run/);
    expect(c.out).toContain('dropped by the server');
    // The run stops once every bot is gone instead of waiting out its 20 s window.
    expect(Date.now() - t0).toBeLessThan(19_000);
  }, 60_000);
});
