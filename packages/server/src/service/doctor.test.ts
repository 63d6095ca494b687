import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, hasCoturn, startCoturn, type Coturn } from '../test-helpers/coturn.js';
import { API_KEY, API_SECRET, startTestServer } from '../test-helpers/wsClient.js';
import { formatCheck, runDoctor, type CheckResult } from './doctor.js';
import type { ConveneServer } from './startServer.js';

/** A TCP port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const byId = (results: CheckResult[], id: string): CheckResult | undefined => results.find((r) => r.id === id || r.id.startsWith(id));

describe('convene doctor (runDoctor) against a real server', () => {
  it('fails the WebSocket check with a fix when nothing listens, and stops there', async () => {
    const port = await closedPort();
    const { ok, results } = await runDoctor({ url: `http://127.0.0.1:${port}`, timeoutMs: 3000 });
    expect(ok).toBe(false);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ id: 'websocket', status: 'fail', required: true });
    expect(formatCheck(results[0]!)).toMatch(/^FAIL {2}WebSocket signaling .*\n {6}→ Check the URL and that TCP port \d+ reaches the server/);
  }, 15_000);

  it('fails the join check (required) with a wrong API secret and says which credentials to give', async () => {
    const server = await startTestServer({ media: false });
    try {
      const { ok, results } = await runDoctor({ url: server.url, apiKey: API_KEY, apiSecret: 'wrong-secret-0123456789', timeoutMs: 5000 });
      expect(ok).toBe(false);
      expect(byId(results, 'websocket')?.status).toBe('ok');
      expect(byId(results, 'rtt')?.status).toBe('ok');
      expect(byId(results, 'join')).toMatchObject({ status: 'fail', required: true, fix: expect.stringContaining('--api-key') });
    } finally {
      await server.close();
    }
  }, 20_000);

  describe.skipIf(!hasCoturn())('with a real coturn (TURN REST API credentials over UDP, TCP and TLS)', () => {
    let turn: Coturn;
    let server: ConveneServer;
    let urls: string[] = [];
    beforeAll(async () => {
      const port = await freePort('127.0.0.1');
      const tlsPort = await freePort('127.0.0.1');
      turn = await startCoturn({ ip: '127.0.0.1', port, tlsPort, secret: 'doctor-secret', minPort: 49_300, maxPort: 49_340 });
      urls = [`turn:127.0.0.1:${port}?transport=udp`, `turn:127.0.0.1:${port}?transport=tcp`, `turns:127.0.0.1:${tlsPort}?transport=tcp`];
      server = await startTestServer({
        rtcBindAddress: '127.0.0.1',
        iceServers: [
          {
            urls,
            secret: 'doctor-secret',
            ttlSeconds: 600,
          },
        ],
      });
    }, 20_000);
    afterAll(async () => {
      await server?.close();
      await turn?.stop();
    });

    it('passes every required check: WebSocket, RTT, bandwidth, join, TURN allocations over UDP/TCP/TLS, media over UDP through the SFU', async () => {
      const lines: string[] = [];
      const { ok, results } = await runDoctor({ url: server.url, apiKey: API_KEY, apiSecret: API_SECRET, timeoutMs: 10_000, ca: turn.certPem, bindAddress: '127.0.0.1' }, (r) =>
        lines.push(formatCheck(r)),
      );
      expect(lines.join('\n')).not.toMatch(/^FAIL/m);
      expect(ok).toBe(true);
      expect(results.map((r) => r.id)).toEqual([
        'websocket',
        'rtt',
        'download',
        'upload',
        'join',
        ...urls.map((u) => `ice:${u}`),
        'media-udp',
        'media-relay',
      ]);
      expect(byId(results, 'ice:turns')?.detail).toMatch(/allocated relay 127\.0\.0\.1:\d+/);
      expect(byId(results, 'media-udp')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/ICE\+DTLS in \d+ ms .*; \d+ packets came back through the SFU/) });
      // On one host a direct path always exists, so the relay-only peer is honest about not proving TURN media
      // (the network-namespace tests in test/netns prove it where only TURN gets through).
      expect(byId(results, 'media-relay')).toMatchObject({ status: 'warn', required: false, detail: expect.stringContaining('not through the relay') });
    }, 60_000);

    it('reports the TLS TURN check as failed (certificate not trusted) without the CA', async () => {
      const { ok, results } = await runDoctor({ url: server.url, apiKey: API_KEY, apiSecret: API_SECRET, timeoutMs: 10_000, bindAddress: '127.0.0.1' });
      expect(ok).toBe(false);
      expect(byId(results, 'ice:turns')).toMatchObject({ status: 'fail', required: true, detail: expect.stringMatching(/^tls: /), fix: expect.stringContaining('certificate') });
      expect(byId(results, `ice:${urls[0]}`)?.status).toBe('ok');
    }, 60_000);
  });
});
