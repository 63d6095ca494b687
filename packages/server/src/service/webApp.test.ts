import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ConveneServer } from './startServer.js';
import { verifyClientToken } from './tokens.js';
import { NETTEST_MAX_BYTES } from './webApp.js';

const KEY = 'webapp_key';
const SECRET = 'webapp-secret-0123456789';

/** Start a server whose meeting app is read from `webDir`. */
async function serverWith(webDir: string, opts: Parameters<typeof startServer>[0] = {}): Promise<ConveneServer> {
  const old = process.env.CONVENE_WEB_DIR;
  process.env.CONVENE_WEB_DIR = webDir;
  try {
    return await startServer({ port: 0, logLevel: 'silent', ...opts });
  } finally {
    if (old === undefined) delete process.env.CONVENE_WEB_DIR;
    else process.env.CONVENE_WEB_DIR = old;
  }
}

const post = (url: string, body: unknown): Promise<Response> =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('web app routes', () => {
  let dir: string;
  let emptyDir: string;
  const servers: ConveneServer[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'convene-web-'));
    emptyDir = mkdtempSync(join(tmpdir(), 'convene-noweb-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>app</title><script type="module" src="/assets/index-abc123.js"></script>');
    writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.log("app")');
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(emptyDir, { recursive: true, force: true });
  });

  it('POST /dev/token in dev mode returns a token for the session, name and role asked for', async () => {
    const s = await serverWith(dir);
    servers.push(s);
    expect(s.devMode).toBe(true);
    const r = await post(`${s.url}/dev/token`, { sessionName: 'Team Sync', userName: 'Ada', role: 'host' });
    expect(r.status).toBe(200);
    const body = (await r.json()) as { token: string; apiKey: string; sessionId: string; serverUrl: string };
    expect(body.apiKey).toBe(s.apiKey);
    expect(body.sessionId).toBe('team sync');
    expect(body.serverUrl).toBe(`http://127.0.0.1:${s.port}`);
    const v = verifyClientToken(body.token, 'team sync', (k) => (k === s.apiKey ? s.apiSecret : undefined));
    expect(v.ok && v.value).toMatchObject({ role: 'host', userName: 'Ada', sessionId: 'team sync' });
  });

  it('POST /dev/token rejects an unknown role and a missing session name with 400', async () => {
    const s = await serverWith(dir);
    servers.push(s);
    expect((await post(`${s.url}/dev/token`, { sessionName: 'x', role: 'admin' })).status).toBe(400);
    expect((await post(`${s.url}/dev/token`, { userName: 'Ada' })).status).toBe(400);
    expect((await fetch(`${s.url}/dev/token`, { method: 'POST', body: 'not json' })).status).toBe(400);
  });

  it('GET /dev/token tells the app it runs in dev mode', async () => {
    const s = await serverWith(dir);
    servers.push(s);
    const r = await fetch(`${s.url}/dev/token`);
    expect(await r.json()).toMatchObject({ devMode: true });
  });

  it('/dev/token does not exist in production mode (404)', async () => {
    const s = await serverWith(dir, { apiKey: KEY, apiSecret: SECRET, production: true });
    servers.push(s);
    expect((await post(`${s.url}/dev/token`, { sessionName: 'x', role: 'host' })).status).toBe(404);
    expect((await fetch(`${s.url}/dev/token`)).status).toBe(404);
  });

  it('/dev/token does not exist when the server was given credentials (404)', async () => {
    const s = await serverWith(dir, { apiKey: KEY, apiSecret: SECRET });
    servers.push(s);
    expect((await post(`${s.url}/dev/token`, { sessionName: 'x', role: 'host' })).status).toBe(404);
  });

  it('GET /v1/nettest?bytes=N answers N uncacheable bytes; more than the cap is 400', async () => {
    const s = await serverWith(dir, { apiKey: KEY, apiSecret: SECRET, production: true });
    servers.push(s);
    const r = await fetch(`${s.url}/v1/nettest?bytes=100000`);
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect((await r.arrayBuffer()).byteLength).toBe(100_000);
    expect((await fetch(`${s.url}/v1/nettest?bytes=${NETTEST_MAX_BYTES + 1}`)).status).toBe(400);
    expect((await fetch(`${s.url}/v1/nettest?bytes=-1`)).status).toBe(400);
  });

  it('POST /v1/nettest counts the bytes received; a body over the cap is 413', async () => {
    const s = await serverWith(dir, { apiKey: KEY, apiSecret: SECRET, production: true });
    servers.push(s);
    const r = await fetch(`${s.url}/v1/nettest`, { method: 'POST', body: new Uint8Array(300_000) });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ bytes: 300_000 });
    const big = await fetch(`${s.url}/v1/nettest`, { method: 'POST', body: new Uint8Array(NETTEST_MAX_BYTES + 1) });
    expect(big.status).toBe(413);
  });

  it('serves the built app at / (revalidated) and hashed assets with a one-year immutable cache', async () => {
    const s = await serverWith(dir);
    servers.push(s);
    const page = await fetch(`${s.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(await page.text()).toContain('/assets/index-abc123.js');
    const asset = await fetch(`${s.url}/assets/index-abc123.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const etag = page.headers.get('etag') ?? '';
    expect((await fetch(`${s.url}/`, { headers: { 'if-none-match': etag } })).status).toBe(304);
  });

  it('answers 404 for unknown paths and for paths escaping the app directory', async () => {
    const s = await serverWith(dir);
    servers.push(s);
    expect((await fetch(`${s.url}/some/page`)).status).toBe(404);
    expect((await fetch(`${s.url}/assets/missing.js`)).status).toBe(404);
    expect((await fetch(`${s.url}/assets/..%2f..%2fetc%2fpasswd`)).status).toBe(404);
    expect((await fetch(`${s.url}/%2e%2e/package.json`)).status).toBe(404);
  });

  it('leaves /healthz and the REST API alone', async () => {
    const s = await serverWith(dir);
    servers.push(s);
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${s.url}/v1/sessions`)).status).toBe(401);
  });

  it('keeps the landing page at / when the app has not been built', async () => {
    const s = await serverWith(emptyDir);
    servers.push(s);
    const r = await fetch(`${s.url}/`);
    expect(r.status).toBe(200);
    expect(await r.text()).toContain('This Convene server');
  });
});
