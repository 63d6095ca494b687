// Real headless Chromium for media tests: a page on http://127.0.0.1 (a secure context, so
// getUserMedia and WebCodecs work) with the fake camera and microphone.
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** Whether a Chromium binary is installed (tests are skipped, loudly, without one). */
export const hasChromium = existsSync(CHROMIUM_PATH);

export interface ChromiumHarness {
  browser: BrowserContext;
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** Launches Chromium with a fresh profile and serves an empty page on 127.0.0.1. */
export async function launchChromium(): Promise<ChromiumHarness> {
  const server: Server = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end('<!doctype html><meta charset="utf-8"><title>convene media test</title>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const userDataDir = mkdtempSync(join(tmpdir(), 'convene-chromium-'));
  let context: BrowserContext | null = null;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [
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
        // Remote audio is only decoded while something plays it out.
        '--autoplay-policy=no-user-gesture-required',
        // Host candidates as plain IPs (not mDNS names) so libdatachannel can use them.
        '--disable-features=WebRtcHideLocalIpsWithMdns',
      ],
    });
  } catch (err) {
    server.close();
    rmSync(userDataDir, { recursive: true, force: true });
    throw err;
  }
  const ctx = context;
  return {
    browser: ctx,
    async newPage(): Promise<Page> {
      const page = await ctx.newPage();
      await page.goto(`http://127.0.0.1:${port}/`);
      return page;
    },
    async close(): Promise<void> {
      await ctx.close().catch(() => undefined);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

export type { Browser, Page };
