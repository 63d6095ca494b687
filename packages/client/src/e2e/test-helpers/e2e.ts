// End-to-end helpers: a real Convene server (port 0, SFU on) serving /sdk/convene.js, real headless
// Chromium with fake devices, and test pages at the server's origin that load the SDK with a
// <script> tag exactly as an application would.
import { mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startServer, type ConveneServer, type ServerOptions } from '@convene/server';
import { createToken, type CreateTokenOptions } from '@convene/server-sdk';
import { CHROMIUM_PATH, GRANT_ARGS, hasChromium } from '../../media/browser/test-helpers/chromium.js';

export { hasChromium };
export const API_KEY = 'e2e_key';
export const API_SECRET = 'e2e_secret_0123456789abcdef';

const clientRoot = fileURLToPath(new URL('../../../', import.meta.url));
const bundleFile = join(clientRoot, 'dist/convene.js');

/** Newest mtime under a directory (sources of the bundle). */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (e.name.endsWith('.ts')) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

/**
 * Make sure dist/convene.js (what the server serves at /sdk/convene.js) is built from the current
 * sources: `npm test` builds it, but a direct `vitest run` after an edit would test a stale bundle.
 * Written atomically (temp file + rename) because test files run in parallel.
 */
export async function ensureBundle(): Promise<void> {
  const srcNewest = Math.max(newest(join(clientRoot, 'src')), newest(join(clientRoot, '../protocol/src')));
  if (existsSync(bundleFile) && statSync(bundleFile).mtimeMs >= srcNewest) return;
  const { bundleSdk } = (await import(/* @vite-ignore */ join(clientRoot, 'scripts/bundle.mjs'))) as {
    bundleSdk: (o?: { sourcemap?: boolean }) => Promise<{ code: string }>;
  };
  const { code } = await bundleSdk({ sourcemap: false });
  mkdirSync(dirname(bundleFile), { recursive: true });
  const tmp = `${bundleFile}.${process.pid}.tmp`;
  writeFileSync(tmp, code);
  renameSync(tmp, bundleFile);
}

/** In-page helpers, available as `window.e2e` on every test page. */
const PAGE_HELPERS = `
window.e2e = {
  waitFor(check, ms = 10000, what = 'condition') {
    return new Promise((resolve, reject) => {
      const t0 = performance.now();
      const tick = async () => {
        let v; try { v = await check(); } catch (e) { return reject(e); }
        if (v) return resolve(v);
        if (performance.now() - t0 > ms) return reject(new Error('timed out after ' + ms + ' ms waiting for ' + what));
        setTimeout(tick, 50);
      };
      void tick();
    });
  },
  nextEvent(target, type, ms = 10000, pred = () => true) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { target.off(type, h); reject(new Error('timed out waiting for ' + type)); }, ms);
      const h = (e) => { if (!pred(e)) return; clearTimeout(timer); target.off(type, h); resolve(e); };
      target.on(type, h);
    });
  },
  /** session.connect as a promise. */
  connect(session, token) {
    return new Promise((resolve, reject) => session.connect(token, (err) => err ? reject(err) : resolve()));
  },
  /** publish as a promise; resolves with the publisher. */
  publish(session, publisherOrTarget, props) {
    return new Promise((resolve, reject) => {
      let pub;
      const cb = (err) => err ? reject(Object.assign(new Error(err.message), { name: err.name, code: err.code })) : resolve(pub);
      pub = props === undefined ? session.publish(publisherOrTarget, cb) : session.publish(publisherOrTarget, props, cb);
    });
  },
  subscribe(session, stream, target, props) {
    return new Promise((resolve, reject) => {
      let sub;
      sub = session.subscribe(stream, target, props || {}, (err) => err ? reject(Object.assign(new Error(err.message), { name: err.name })) : resolve(sub));
    });
  },
  /** inbound-rtp stats of a subscriber by kind (plain objects). */
  async inbound(sub) {
    const report = await sub.getRtcStatsReport();
    const out = {};
    report.forEach((s) => { if (s.type === 'inbound-rtp') out[s.kind] = { ...s }; });
    return out;
  },
  async outbound(pub) {
    const reports = await pub.getRtcStatsReport();
    const out = { video: null, audio: null, pair: null };
    for (const { rtcStatsReport } of reports) rtcStatsReport.forEach((s) => {
      if (s.type === 'outbound-rtp') out[s.kind] = { ...s };
      if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') out.pair = { ...s };
    });
    return out;
  },
};
`;

/**
 * The HTML of a test page: the reference's layout plus the SDK from the Convene server (`SDK_URL` is
 * replaced with `<server>/sdk/convene.js`). Pages come from another local origin (an app's own web
 * server), so `OT.initSession()` must find the Convene server from where the script came from.
 */
export function pageHtml(body = '<div id="publisher"></div><div id="subscribers"></div>', scripts = ''): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>convene e2e</title></head><body>${body}<script src="SDK_URL"></script><script>${PAGE_HELPERS}</script>${scripts}</body></html>`;
}

export interface E2E {
  server: ConveneServer;
  /** The Convene server's URL. */
  url: string;
  /** Origin of the test pages (a separate local web server, like an application's). */
  pagesUrl: string;
  context: BrowserContext;
  /** A new page at the server's origin that loaded /sdk/convene.js (plus `html` if given). */
  page(html?: string): Promise<Page>;
  token(sessionId: string, opts?: Partial<CreateTokenOptions>): Promise<string>;
  close(): Promise<void>;
}

let pages = 0;

/** Start a server and one Chromium (fresh profile) for a test file. */
export async function startE2E(opts: { server?: ServerOptions; args?: string[] } = {}): Promise<E2E> {
  await ensureBundle();
  const server = await startServer({ port: 0, rtcPort: 0, rtcBindAddress: '127.0.0.1', apiKey: API_KEY, apiSecret: API_SECRET, logLevel: 'silent', ...opts.server });
  const userDataDir = mkdtempSync(join(tmpdir(), 'convene-e2e-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...GRANT_ARGS, '--auto-select-desktop-capture-source=Entire screen', '--autoplay-policy=no-user-gesture-required', ...(opts.args ?? [])],
    });
  } catch (err) {
    await server.close();
    rmSync(userDataDir, { recursive: true, force: true });
    throw err;
  }
  const url = server.url;
  // Test pages from a real local web server: Chromium's local-network-access checks block a page
  // fulfilled by Playwright (no address: treated as public) from opening a WebSocket to 127.0.0.1.
  const bodies = new Map<string, string>();
  const web: Server = createServer((req, res) => {
    const body = bodies.get(req.url ?? '');
    res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'text/html; charset=utf-8' }).end(body ?? 'not found');
  });
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  const addr = web.address();
  const pagesUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  return {
    server,
    url,
    pagesUrl,
    context,
    async page(html?: string): Promise<Page> {
      const path = `/e2e-${++pages}.html`;
      bodies.set(path, (html ?? pageHtml()).replace('SDK_URL', `${url}/sdk/convene.js`));
      const page = await context.newPage();
      page.on('pageerror', (err) => process.stderr.write(`[page error] ${err.message}\n`));
      await page.goto(`${pagesUrl}${path}`);
      await page.waitForFunction(() => typeof (globalThis as { OT?: unknown }).OT === 'object');
      return page;
    },
    token: (sessionId, o = {}) => createToken({ apiKey: API_KEY, apiSecret: API_SECRET, sessionId, role: 'publisher', ...o }),
    async close(): Promise<void> {
      await context.close().catch(() => undefined);
      await new Promise<void>((resolve) => web.close(() => resolve()));
      web.closeAllConnections();
      await server.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
