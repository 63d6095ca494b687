// Real headless Chromium for the browser media tests: the media folder bundled with
// esbuild and served with a blank page from 127.0.0.1 (a secure context), fake devices.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM_PATH);

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

export const BASE_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
];
/** Grant every permission prompt (camera, microphone, screen picker) without UI. */
export const GRANT_ARGS = [...BASE_ARGS, '--use-fake-ui-for-media-stream'];
/** Refuse every permission prompt. */
export const DENY_ARGS = [...BASE_ARGS, '--deny-permission-prompts'];

let bundled: Promise<string> | null = null;

/** The media folder as one IIFE script defining `globalThis.ConveneMedia`. */
export function mediaBundle(): Promise<string> {
  bundled ??= build({
    entryPoints: [here('../index.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    globalName: 'ConveneMedia',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'silent',
    plugins: [
      {
        name: 'protocol-from-source',
        setup(b) {
          b.onResolve({ filter: /^@convene\/protocol$/ }, () => ({ path: here('../../../../../protocol/src/index.ts') }));
        },
      },
    ],
  }).then((r) => r.outputFiles[0]!.text);
  return bundled;
}

// Test-page helper: connect a Publisher to a Subscriber through two RTCPeerConnections in the
// page, doing what the Session does with the SFU in between (publisher offers, subscriber answers).
const LOOPBACK = `
window.loopback = async (publisher, subscriber) => {
  const a = new RTCPeerConnection(), b = new RTCPeerConnection();
  a.onicecandidate = (e) => { if (e.candidate) void b.addIceCandidate(e.candidate); };
  b.onicecandidate = (e) => { if (e.candidate) void a.addIceCandidate(e.candidate); };
  publisher._attach(a);
  subscriber._setPeerConnection(b);
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription);
  window.__pcs = (window.__pcs || []).concat([a, b]);
  return { a, b };
};
window.waitFor = (check, ms = 8000, what = 'condition') => new Promise((resolve, reject) => {
  const t0 = performance.now();
  const tick = async () => {
    let v; try { v = await check(); } catch (e) { return reject(e); }
    if (v) return resolve(v);
    if (performance.now() - t0 > ms) return reject(new Error('timed out waiting for ' + what));
    setTimeout(tick, 50);
  };
  void tick();
});
`;

export interface MediaBrowser {
  context: BrowserContext;
  url: string;
  /** A fresh page at the server's origin with the bundle and the helpers loaded. */
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** Launch Chromium (fresh profile) and a tiny HTTP server for the test pages. */
export async function launchMediaBrowser(args: string[] = GRANT_ARGS): Promise<MediaBrowser> {
  const script = await mediaBundle();
  const server: Server = createServer((req, res) => {
    if (req.url === '/media.js') {
      res.setHeader('content-type', 'text/javascript');
      res.end(script + LOOPBACK);
      return;
    }
    res.setHeader('content-type', 'text/html');
    res.end('<!doctype html><meta charset="utf-8"><title>convene browser media</title><body><div id="box"><div id="target">placeholder</div></div></body>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const userDataDir = mkdtempSync(join(tmpdir(), 'convene-media-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM_PATH, headless: true, args });
  } catch (err) {
    server.close();
    rmSync(userDataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    context,
    url,
    async newPage(): Promise<Page> {
      const page = await context.newPage();
      await page.goto(url);
      await page.addScriptTag({ url: `${url}/media.js` });
      return page;
    },
    async close(): Promise<void> {
      await context.close().catch(() => {});
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
