// Helpers for the app's browser tests: a fresh build of apps/web, real Chromium with fake devices.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM_PATH);
export const APP_DIR = fileURLToPath(new URL('../../', import.meta.url));
export const DIST_DIR = join(APP_DIR, 'dist');
export const REPO_DIR = join(APP_DIR, '../..');
export const ARTIFACTS = join(REPO_DIR, 'test-artifacts', 'web');

export const CHROMIUM_ARGS = [
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
  '--autoplay-policy=no-user-gesture-required',
  '--auto-select-desktop-capture-source=Entire screen',
];

function newestMtime(dir: string, skip: (name: string) => boolean): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (skip(e.name)) continue;
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p, skip) : statSync(p).mtimeMs);
  }
  return newest;
}

function isFresh(): boolean {
  const index = join(DIST_DIR, 'index.html');
  const skip = (n: string): boolean => n.endsWith('.test.ts') || n === 'test-helpers' || n === 'node_modules';
  const sources = Math.max(
    newestMtime(join(APP_DIR, 'src'), skip),
    statSync(join(APP_DIR, 'index.html')).mtimeMs,
    statSync(join(APP_DIR, 'vite.config.ts')).mtimeMs,
    newestMtime(join(REPO_DIR, 'packages/client/src'), skip),
    newestMtime(join(REPO_DIR, 'packages/protocol/src'), skip),
  );
  return existsSync(index) && statSync(index).mtimeMs > sources;
}

/**
 * Build apps/web unless dist is newer than every source it is built from (the app and the SDK).
 * Test files run in parallel workers: a lock directory keeps two builds from sharing `dist`.
 */
export function ensureAppBuilt(): void {
  if (isFresh()) return;
  const lock = join(APP_DIR, '.build-lock');
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock left by a killed run is stale after two minutes.
      const st = statSync(lock, { throwIfNoEntry: false });
      if (st && Date.now() - st.mtimeMs > 120_000) rmSync(lock, { recursive: true, force: true });
      Atomics.wait(nap, 0, 0, 200);
    }
  }
  try {
    if (isFresh()) return;
    const r = spawnSync(join(REPO_DIR, 'node_modules/.bin/vite'), ['build', '--logLevel', 'warn'], { cwd: APP_DIR, encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`vite build failed:\n${r.stdout}\n${r.stderr}`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Chromium that grants camera, microphone and screen (`'grant'`) or refuses every permission (`'deny'`). */
export function launch(permissions: 'grant' | 'deny' = 'grant'): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const args = permissions === 'grant' ? CHROMIUM_ARGS : [...CHROMIUM_ARGS.filter((a) => a !== '--use-fake-ui-for-media-stream'), '--deny-permission-prompts'];
  return chromium.launch({ executablePath: CHROMIUM_PATH, args });
}

export async function shot(page: Page, name: string): Promise<string> {
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

export interface JoinAs {
  session: string;
  name: string;
  role?: 'host' | 'publisher' | 'moderator' | 'subscriber';
  passcode?: string;
}

/** Fill the join form and submit it; resolves on the preview screen. */
export async function openPreview(page: Page, url: string, who: JoinAs): Promise<void> {
  await page.goto(url);
  await page.getByLabel('Session name').fill(who.session);
  await page.getByLabel('Display name').fill(who.name);
  if (who.passcode) await page.getByLabel('Passcode').fill(who.passcode);
  await page.getByLabel('Role').selectOption(who.role ?? 'publisher');
  await page.getByRole('button', { name: 'Join' }).click();
  await page.getByRole('heading', { name: /Ready to join/ }).waitFor({ timeout: 10_000 });
}

/** Join through the form and the preview; resolves once in the session. */
export async function joinMeeting(page: Page, url: string, who: JoinAs): Promise<void> {
  await openPreview(page, url, who);
  await page.locator('main.preview button[type=submit]:not([disabled])').waitFor({ timeout: 10_000 });
  await page.getByRole('button', { name: 'Join', exact: true }).click();
  await page.getByRole('navigation', { name: 'Meeting controls' }).waitFor({ timeout: 10_000 });
}

/** Open the People panel (if closed). */
export async function openPeople(page: Page): Promise<void> {
  const b = page.getByRole('button', { name: /^People \(/ });
  if ((await b.getAttribute('aria-pressed')) !== 'true') await b.click();
}
