import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, nextEvent, startHarness, type Harness } from './test-helpers/harness.js';
import type { SignalEvent } from './index.js';

/*
 * The SDK in real Chromium: bundled for the browser (no Node built-ins, no `ws`),
 * loaded with a <script> tag from the server's origin, using the native WebSocket.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const src = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

let h: Harness;
let browser: Browser;
let page: Page;
let bundle: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) return;
  const out = await build({
    entryPoints: [src('./index.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    globalName: 'Convene',
    platform: 'browser',
    logLevel: 'silent',
    plugins: [
      {
        name: 'protocol-from-source',
        setup(b) {
          b.onResolve({ filter: /^@convene\/protocol$/ }, () => ({ path: src('../../protocol/src/index.ts') }));
        },
      },
    ],
  });
  bundle = out.outputFiles[0]!.text;
  h = await startHarness();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  page = await browser.newPage();
  // Serve the bundle as if the server hosted it, so the SDK's default serverUrl is the server's origin.
  await page.route(`${h.url}/test-sdk.js`, (route) => route.fulfill({ contentType: 'text/javascript', body: bundle }));
  await page.goto(h.url);
  await page.addScriptTag({ url: `${h.url}/test-sdk.js` });
});

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

describe.skipIf(!existsSync(CHROMIUM))('in Chromium', () => {
  it('the browser bundle contains neither Node built-ins nor the ws package', () => {
    expect(bundle).not.toMatch(/require\(["']node:/);
    expect(bundle).not.toMatch(/from ["']ws["']/);
    expect(bundle).not.toMatch(/WebSocketServer/);
  });

  it('connects with the native WebSocket to the origin it was loaded from, and exchanges signals with a Node client', async () => {
    const sid = `browser-${Date.now()}`;
    const node = await h.join(sid, { userName: 'node' });
    const token = await h.token(sid, { userName: 'chromium' });
    const fromBrowser = nextEvent<SignalEvent>(node, 'signal:hello', () => true, 10_000);
    // Answer the browser directly once it says hello.
    node.on('signal:hello', (e: SignalEvent) => void node.signal({ type: 'reply', data: 'hi chromium', to: e.from }));
    const result = await page.evaluate(
      async ({ apiKey, sid, token }) => {
        const C = (globalThis as unknown as { Convene: typeof import('./index.js') }).Convene;
        const session = C.initSession(apiKey, sid);
        const created: string[] = [];
        session.on('connectionCreated', (e: { connection: { userName: string } }) => created.push(e.connection.userName));
        const got = new Promise<string>((resolve) => session.once('signal:reply', (e: { data: string }) => resolve(e.data)));
        await session.connect(token);
        await session.signal({ type: 'hello', data: 'from chromium' });
        const reply = await got;
        await session.disconnect();
        return { created, reply, state: session.connectionState };
      },
      { apiKey: API_KEY, sid, token },
    );
    const e = await fromBrowser;
    expect(e.data).toBe('from chromium');
    expect(e.from?.userName).toBe('chromium');
    expect(result).toEqual({ created: ['node', 'chromium'], reply: 'hi chromium', state: 'disconnected' });
    await node.disconnect();
  }, 20_000);
  it('the lifecycle facade defaults serverUrl to the script origin and joins, lists users and leaves', async () => {
    const topic = `Browser Facade ${Date.now()}`;
    const node = await h.join(topic, { roleType: 1, role: undefined, userName: 'host' });
    const token = await h.token(topic, { userName: 'tab' });
    const result = await page.evaluate(
      async ({ topic, token }) => {
        const C = (globalThis as unknown as { Convene: typeof import('./index.js') }).Convene;
        const client = C.createClient();
        const changes: string[] = [];
        client.on('connection-change', (x: { state: string }) => changes.push(x.state));
        await client.init('en-US', 'Global');
        await client.join(topic, token, 'Tab');
        const users = client.getAllUser().map((u: { displayName: string; isHost: boolean }) => [u.displayName, u.isHost]);
        await client.leave();
        return { users, changes };
      },
      { topic, token },
    );
    expect(result).toEqual({
      users: [
        ['host', true],
        ['Tab', false],
      ],
      changes: ['Connected', 'Closed'],
    });
    await node.disconnect();
  }, 20_000);
});
