import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * Where the browser bundle of @convene/client lives (`dist/convene.js`, built by the client package), found
 * through module resolution from this package so it works from a checkout, a workspace and node_modules.
 * null when @convene/client is not installed.
 */
function bundlePath(): string | null {
  try {
    const pkg = createRequire(import.meta.url).resolve('@convene/client/package.json');
    return join(dirname(pkg), 'dist', 'convene.js');
  } catch {
    return null;
  }
}

let cached: { path: string; mtimeMs: number; size: number; body: Buffer; etag: string } | null = null;

/**
 * GET/HEAD /sdk/convene.js: the browser SDK (defines the global `OT`). Revalidated on every load (ETag),
 * so a rebuilt bundle is picked up at once; 404 with an explanation when it has not been built.
 */
export async function serveSdk(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = bundlePath();
  const st = path ? await stat(path).catch(() => null) : null;
  if (!path || !st || !st.isFile()) {
    const msg = path
      ? `The browser SDK has not been built: ${path} is missing. Run \`npm run build\` (or build @convene/client) and reload.\n`
      : 'The browser SDK is not installed: @convene/client could not be resolved from @convene/server.\n';
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }).end(msg);
    return;
  }
  if (!cached || cached.path !== path || cached.mtimeMs !== st.mtimeMs || cached.size !== st.size) {
    const body = await readFile(path);
    cached = { path, mtimeMs: st.mtimeMs, size: st.size, body, etag: `W/"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"` };
  }
  const headers = {
    'content-type': 'text/javascript; charset=utf-8',
    'cache-control': 'public, max-age=0, must-revalidate',
    etag: cached.etag,
    'access-control-allow-origin': '*',
  };
  if (req.headers['if-none-match'] === cached.etag) {
    res.writeHead(304, headers).end();
    return;
  }
  res.writeHead(200, { ...headers, 'content-length': cached.body.length });
  res.end(req.method === 'HEAD' ? undefined : cached.body);
}
