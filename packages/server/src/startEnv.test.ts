import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { START_ENV_DEFAULTS, withStartEnvDefaults } from './startEnv.js';

const bin = fileURLToPath(new URL('../bin/convene.js', import.meta.url));

/**
 * Runs bin/convene.js as a program (its first line is a shell command ending in `exec node "$0" "$@"`) with a
 * `node` first in PATH that prints the two variables and its arguments instead of starting Node.
 */
function launcherEnv(args: string[], env: Record<string, string>): { GLIBC_TUNABLES?: string; NODE_OPTIONS?: string; args: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'convene-bin-'));
  const printer = join(dir, 'node');
  writeFileSync(
    printer,
    `#!${process.execPath}\nconst e = process.env;\nprocess.stdout.write(JSON.stringify({ GLIBC_TUNABLES: e.GLIBC_TUNABLES, NODE_OPTIONS: e.NODE_OPTIONS, args: process.argv.slice(2) }));\n`,
  );
  chmodSync(printer, 0o755);
  const r = spawnSync(bin, args, { encoding: 'utf8', env: { PATH: `${dir}:/usr/bin:/bin`, ...env }, timeout: 10_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe('convene start process settings', () => {
  it.each<[string, Record<string, string>]>([
    ['nothing set', {}],
    ['GLIBC_TUNABLES set', { GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }],
    ['GLIBC_TUNABLES empty (turned off)', { GLIBC_TUNABLES: '' }],
    ['other NODE_OPTIONS', { NODE_OPTIONS: '--enable-source-maps --max-old-space-size=4096' }],
    ['NODE_OPTIONS with its own semi-space size', { NODE_OPTIONS: '--max-semi-space-size=16' }],
  ])('the launcher line applies what withStartEnvDefaults says (%s)', (_, env) => {
    const got = launcherEnv(['start', '--port', '0'], env);
    const want = withStartEnvDefaults(env);
    expect(got.GLIBC_TUNABLES).toBe(want.GLIBC_TUNABLES);
    expect(got.NODE_OPTIONS).toBe(want.NODE_OPTIONS);
    expect(got.args).toEqual([bin, 'start', '--port', '0']);
  });

  it('sets both defaults when nothing is set, and keeps what the user set', () => {
    expect(withStartEnvDefaults({})).toMatchObject(START_ENV_DEFAULTS);
    const kept = withStartEnvDefaults({ GLIBC_TUNABLES: '', NODE_OPTIONS: '--max-semi-space-size=16' });
    expect(kept.GLIBC_TUNABLES).toBe('');
    expect(kept.NODE_OPTIONS).toBe('--max-semi-space-size=16');
  });

  it('leaves other commands alone', () => {
    const got = launcherEnv(['loadtest', '--help'], {});
    expect(got.GLIBC_TUNABLES).toBeUndefined();
    expect(got.NODE_OPTIONS).toBeUndefined();
  });

  it('is still a module Node runs directly (the shell line is a string and a comment)', () => {
    const r = spawnSync(process.execPath, ['--check', bin], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });

  it('the settings take effect in Node: 2 MB semi-spaces and the glibc tunable', () => {
    const env = withStartEnvDefaults({ PATH: process.env.PATH });
    const script = `
      let keep = [];
      for (let i = 0; i < 2e6; i++) { keep.push({ i }); if (keep.length > 1e5) keep = []; }
      const v8 = require('node:v8');
      process.stdout.write(String(v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size));`;
    const tuned = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env });
    const untuned = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    expect(Number(tuned.stdout)).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(Number(untuned.stdout)).toBeGreaterThan(4 * 1024 * 1024);
    const ld = spawnSync('/lib64/ld-linux-x86-64.so.2', ['--list-tunables'], { encoding: 'utf8', env });
    if (ld.status === 0) expect(ld.stdout).toMatch(/glibc\.malloc\.mmap_threshold: 0x10400\b/);
  });
});
