import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, hasCoturn, startCoturn, type Coturn } from '../test-helpers/coturn.js';
import { startTestServer, token } from '../test-helpers/wsClient.js';
import type { ConveneServer } from './startServer.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

interface PageResult {
  done: boolean;
  ok: boolean;
  results: { id: string; status: string; detail: string; fix?: string; required: boolean }[];
}

describe('GET /connection-test', () => {
  it('serves the page (HTML, no-cache) without credentials', async () => {
    const server = await startTestServer({ media: false });
    try {
      const r = await fetch(server.url + '/connection-test');
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await r.text()).toContain('<title>Convene connection test</title>');
    } finally {
      await server.close();
    }
  });
});

describe.skipIf(!existsSync(CHROMIUM) || !hasCoturn())('the connection-test page in Chromium (real SFU, real coturn)', () => {
  let browser: Browser;
  let turn: Coturn;
  let server: ConveneServer;
  let turnPort = 0;
  beforeAll(async () => {
    turnPort = await freePort('127.0.0.1');
    turn = await startCoturn({ ip: '127.0.0.1', port: turnPort, secret: 'page-secret', minPort: 49_400, maxPort: 49_440 });
    // SFU and coturn both on loopback, so the relay's permission (for the SFU's announced address) matches
    // the address the SFU answers from.
    server = await startTestServer({
      rtcBindAddress: '127.0.0.1',
      iceServers: [{ urls: [`turn:127.0.0.1:${turnPort}?transport=udp`, `turn:127.0.0.1:${turnPort}?transport=tcp`], secret: 'page-secret' }],
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await turn?.stop();
  });

  async function runPage(query: string): Promise<PageResult> {
    const page = await browser.newPage();
    try {
      await page.goto(`${server.url}/connection-test${query}`);
      await page.waitForFunction(() => (window as unknown as { conveneConnectionTest: PageResult }).conveneConnectionTest.done, null, { timeout: 60_000 });
      return await page.evaluate(() => (window as unknown as { conveneConnectionTest: PageResult }).conveneConnectionTest);
    } finally {
      await page.close();
    }
  }

  it('passes signaling, RTT, bandwidth, join, TURN/UDP and TURN/TCP allocations, media over UDP and relay-only media through TURN', async () => {
    const r = await runPage(`?session=page&token=${token('page')}`);
    const summary = r.results.map((x) => `${x.status} ${x.id} ${x.detail}`).join('\n');
    expect(r.results.map((x) => [x.id, x.status]), summary).toEqual([
      ['websocket', 'ok'],
      ['rtt', 'ok'],
      ['download', 'ok'],
      ['upload', 'ok'],
      ['join', 'ok'],
      [`ice:turn:127.0.0.1:${turnPort}?transport=udp`, 'ok'],
      [`ice:turn:127.0.0.1:${turnPort}?transport=tcp`, 'ok'],
      ['media-udp', 'ok'],
      ['media-relay', 'ok'],
    ]);
    expect(r.ok).toBe(true);
    // Chromium enforces relay-only: the selected local candidate is the TURN relay.
    expect(r.results.find((x) => x.id === 'media-relay')?.detail).toMatch(/\(relay (udp|tcp) /);
  }, 90_000);

  it('fails the join check with a fix when the token is wrong', async () => {
    const r = await runPage(`?session=page&token=not-a-token`);
    expect(r.ok).toBe(false);
    expect(r.results.find((x) => x.id === 'join')).toMatchObject({ status: 'fail', required: true, fix: expect.stringContaining('?token=') });
  }, 60_000);
});
