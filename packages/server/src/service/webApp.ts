import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { limits, normalizeSessionName, ROLES, type Role } from '@convene/protocol';
import type { Logger } from '../util/log.js';
import { signHs256 } from './jwt.js';

/** Largest body `POST /v1/nettest` accepts, and largest `GET /v1/nettest?bytes=` answer, bytes. */
export const NETTEST_MAX_BYTES = 4 * 1024 * 1024;
/** Default size of a `GET /v1/nettest` answer, bytes. */
export const NETTEST_DEFAULT_BYTES = 256 * 1024;
/** Lifetime of a token minted by `POST /dev/token`, seconds. */
export const DEV_TOKEN_TTL_SEC = 4 * 3600;

/** Where the built meeting app lives: `CONVENE_WEB_DIR`, else `apps/web/dist` of this checkout. */
export function defaultWebDir(env: NodeJS.ProcessEnv = process.env): string {
  // src/service/ and dist/service/ are both four levels below the repository root.
  return env.CONVENE_WEB_DIR ? resolve(env.CONVENE_WEB_DIR) : fileURLToPath(new URL('../../../../apps/web/dist', import.meta.url));
}

/** What the web app routes need from the server. */
export interface WebAppOptions {
  /** Dev mode: `POST /dev/token` mints tokens for anyone. Never true in production. */
  devMode: boolean;
  apiKey: string;
  apiSecret: string;
  log: Logger;
  /** Directory holding the built app (`index.html`, `assets/`). Default: defaultWebDir(). */
  webDir?: string;
}

/** The routes of the meeting app; `handle()` answers or returns false to let the server go on. */
export interface WebApp {
  /** Whether a built app was found (otherwise `/` stays the landing page). */
  readonly hasApp: boolean;
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean>;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
};

/** Headers every app page gets: no framing by other origins unless embedded on purpose is up to the deployer. */
const PAGE_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

const errorBody = (code: number, name: string, message: string): unknown => ({ error: { name, code, message } });

/** Read a request body up to `max` bytes; resolves null (after draining) when it is larger. */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | null> {
  return new Promise((resolveBody, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > max) {
      req.resume();
      resolveBody(null);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) over = true;
      else chunks.push(c);
    });
    req.on('end', () => resolveBody(over ? null : Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

/** Origin the client reached us at, for `serverUrl` in the dev token answer. */
function originOf(req: IncomingMessage): string {
  const proto = String(req.headers['x-forwarded-proto'] ?? '').split(',')[0]?.trim() || ('encrypted' in req.socket && req.socket.encrypted ? 'https' : 'http');
  return `${proto}://${req.headers.host ?? 'localhost'}`;
}

/**
 * The meeting app's HTTP routes, independent of the rest of the server:
 * - `GET /` (and `/index.html`): the built app, revalidated on every load; `/assets/*`: hashed
 *   files, cached for a year. Without a build, nothing is answered and `/` stays the landing page.
 * - `GET|POST /v1/nettest`: download/upload probe for the preview's network test (size-capped).
 * - dev mode only: `GET /dev/token` (mode discovery) and `POST /dev/token` `{ sessionName, userName, role }`
 *   → `{ token, apiKey, sessionId, serverUrl }`. In production these answer 404 like any unknown path.
 *
 * @example
 * const web = createWebApp({ devMode: true, apiKey, apiSecret, log });
 * if (await web.handle(req, res, path)) return;
 */
export function createWebApp(options: WebAppOptions): WebApp {
  const webDir = resolve(options.webDir ?? defaultWebDir());
  const indexPath = join(webDir, 'index.html');
  const hasApp = existsSync(indexPath);
  const log = options.log;
  if (hasApp) log.info({ webDir }, 'serving the meeting app at /');
  // One incompressible block reused for every download probe (compression would fake the speed).
  let noise: Buffer | null = null;

  const serveFile = (req: IncomingMessage, res: ServerResponse, file: string, immutable: boolean): boolean => {
    let st;
    try {
      st = statSync(file);
    } catch {
      return false;
    }
    if (!st.isFile()) return false;
    const type = MIME[extname(file).toLowerCase()] ?? 'application/octet-stream';
    const etag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
    const headers: Record<string, string | number> = {
      ...PAGE_HEADERS,
      'content-type': type,
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      etag,
    };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers).end();
      return true;
    }
    const body = readFileSync(file);
    headers['content-length'] = body.length;
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };

  const devToken = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const raw = await readBody(req, 16 * 1024);
    if (raw === null) return sendJson(res, 413, errorBody(413, 'OT_REQUEST_TOO_LARGE', 'Body too large'));
    let body: { sessionName?: unknown; userName?: unknown; role?: unknown; userIdentity?: unknown };
    try {
      body = JSON.parse(raw.toString('utf8') || '{}') as typeof body;
    } catch {
      return sendJson(res, 400, errorBody(400, 'OT_BAD_REQUEST', 'Body must be JSON'));
    }
    if (typeof body !== 'object' || body === null) return sendJson(res, 400, errorBody(400, 'OT_BAD_REQUEST', 'Body must be a JSON object'));
    const name = normalizeSessionName(body.sessionName);
    if (!name.ok) return sendJson(res, 400, errorBody(400, 'OT_BAD_REQUEST', `sessionName: ${name.message}`));
    const role = (body.role ?? 'publisher') as Role;
    if (!ROLES.includes(role)) return sendJson(res, 400, errorBody(400, 'OT_BAD_REQUEST', `role must be one of ${ROLES.join(', ')}`));
    if (body.userName !== undefined && typeof body.userName !== 'string') return sendJson(res, 400, errorBody(400, 'OT_BAD_REQUEST', 'userName must be a string'));
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = { iss: options.apiKey, tpc: body.sessionName, role, iat: now, exp: now + DEV_TOKEN_TTL_SEC };
    if (typeof body.userName === 'string' && body.userName.length > 0) claims.user_name = body.userName.slice(0, limits.userNameMaxLength);
    if (typeof body.userIdentity === 'string' && body.userIdentity.length > 0) claims.user_identity = body.userIdentity;
    const token = signHs256(claims, options.apiSecret);
    sendJson(res, 200, { token, apiKey: options.apiKey, sessionId: name.value, serverUrl: originOf(req) });
  };

  const nettest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method === 'POST') {
      const t0 = performance.now();
      const body = await readBody(req, NETTEST_MAX_BYTES);
      if (body === null) return sendJson(res, 413, errorBody(413, 'OT_REQUEST_TOO_LARGE', `At most ${NETTEST_MAX_BYTES} bytes`));
      return sendJson(res, 200, { bytes: body.length, ms: Math.round((performance.now() - t0) * 10) / 10 });
    }
    const q = new URL(req.url ?? '/', 'http://x').searchParams.get('bytes');
    const n = q === null ? NETTEST_DEFAULT_BYTES : Number(q);
    if (!Number.isInteger(n) || n < 0 || n > NETTEST_MAX_BYTES) {
      return sendJson(res, 400, errorBody(400, 'OT_BAD_REQUEST', `bytes must be an integer from 0 to ${NETTEST_MAX_BYTES}`));
    }
    noise ??= randomBytes(NETTEST_MAX_BYTES);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': n, 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : noise.subarray(0, n));
  };

  return {
    hasApp,
    async handle(req, res, path) {
      const method = req.method ?? 'GET';
      if (path === '/v1/nettest') {
        if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') {
          sendJson(res, 405, errorBody(405, 'OT_METHOD_NOT_ALLOWED', 'Use GET or POST'));
          return true;
        }
        await nettest(req, res);
        return true;
      }
      if (path === '/dev/token') {
        if (!options.devMode) return false;
        if (method === 'POST') await devToken(req, res);
        else if (method === 'GET') sendJson(res, 200, { devMode: true, roles: ROLES });
        else sendJson(res, 405, errorBody(405, 'OT_METHOD_NOT_ALLOWED', 'Use GET or POST'));
        return true;
      }
      if (!hasApp || (method !== 'GET' && method !== 'HEAD')) return false;
      if (path === '/' || path === '/index.html') return serveFile(req, res, indexPath, false);
      // Build output other than the page: hashed assets (immutable) and a few root files (icons).
      let decoded: string;
      try {
        decoded = decodeURIComponent(path);
      } catch {
        return false;
      }
      if (decoded.includes('\0') || decoded.startsWith('/v1/') || decoded.startsWith('/sdk/')) return false;
      const file = resolve(webDir, '.' + decoded);
      if (!file.startsWith(webDir + sep)) return false;
      const rel = file.slice(webDir.length + 1);
      const isAsset = rel.startsWith('assets' + sep);
      if (!isAsset && rel.includes(sep)) return false;
      return serveFile(req, res, file, isAsset);
    },
  };
}
