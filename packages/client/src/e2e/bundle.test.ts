import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';

/* The browser bundle served at /sdk/convene.js: size budget, no Node-only code, defines the global OT. */

const script = fileURLToPath(new URL('../../scripts/bundle.mjs', import.meta.url));
const load = async (): Promise<{ code: string; gzipBytes: number }> =>
  ((await import(/* @vite-ignore */ script)) as { bundleSdk: (o?: { sourcemap?: boolean }) => Promise<{ code: string; gzipBytes: number }> }).bundleSdk({ sourcemap: false });

describe('dist/convene.js', () => {
  it('is at most 80 KB minified and gzipped', async () => {
    const { gzipBytes } = await load();
    expect(gzipBytes).toBeGreaterThan(10_000);
    expect(gzipBytes).toBeLessThanOrEqual(80 * 1024);
  }, 30_000);

  it('contains no Node-only module: no node-datachannel, ws, node: built-ins, require() or the synthetic VP8 encoder', async () => {
    const { code } = await load();
    for (const marker of ['node-datachannel', 'require(', '"node:', "'node:", 'Sec-WebSocket-Key', 'IceUdpMuxListener', 'vp8_mode_contexts', 'setMediaHandler']) {
      expect(code.includes(marker), marker).toBe(false);
    }
  }, 30_000);

  it('defines the global OT with initSession and initPublisher when run as a classic script', async () => {
    const { code } = await load();
    const sandbox: Record<string, unknown> = { console, setTimeout, clearTimeout, queueMicrotask, URL };
    sandbox.globalThis = sandbox;
    sandbox.window = sandbox;
    runInNewContext(code, sandbox);
    const OT = sandbox.OT as { initSession: unknown; initPublisher: unknown; version: string };
    expect(typeof OT.initSession).toBe('function');
    expect(typeof OT.initPublisher).toBe('function');
    expect(OT.version).toMatch(/^\d+\.\d+\.\d+/);
  }, 30_000);
});
