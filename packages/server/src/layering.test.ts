import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/*
 * Lint rule: imports flow service -> rtc -> sfu, never back. store/ and
 * routing/ are backends the domain uses through interfaces; util/ is shared.
 * Top-level files (index.ts, cli.ts) may import anything.
 */
const src = dirname(fileURLToPath(import.meta.url));

/** Which internal layers each layer may import (besides itself). */
const ALLOWED: Record<string, string[]> = {
  service: ['rtc', 'sfu', 'store', 'routing', 'util'],
  rtc: ['sfu', 'store', 'routing', 'util'],
  sfu: ['util'],
  routing: ['store', 'util'],
  store: ['util'],
  util: [],
  'test-helpers': ['service', 'rtc', 'sfu', 'store', 'routing', 'util'],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    // Tests are integration tests that cross layers on purpose; the rule is for shipped code.
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

const layerOf = (file: string, root: string = src): string | null => {
  const rel = relative(root, file).split(sep);
  return rel.length > 1 ? (rel[0] as string) : null;
};

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every wrong-direction import in the tree: `file -> target`. */
export function layeringViolations(root: string = src): string[] {
  const out: string[] = [];
  for (const file of files(root)) {
    const from = layerOf(file, root);
    if (from === null) continue;
    const allowed = ALLOWED[from];
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2];
      if (!spec || !spec.startsWith('.')) continue;
      const target = layerOf(resolve(dirname(file), spec), root);
      if (target === null && from !== 'test-helpers') {
        out.push(`${relative(root, file)} -> ${spec} (top-level module)`);
      } else if (target !== null && target !== from && !(allowed ?? []).includes(target)) {
        out.push(`${relative(root, file)} -> ${spec} (${from} may not import ${target})`);
      }
    }
  }
  return out;
}

describe('server layering', () => {
  it('has no import from a lower layer to a higher one (service -> rtc -> sfu)', () => {
    expect(layeringViolations()).toEqual([]);
  });

  it('every source directory is a known layer', () => {
    const dirs = readdirSync(src).filter((n) => statSync(join(src, n)).isDirectory());
    expect(dirs.filter((d) => !(d in ALLOWED))).toEqual([]);
  });

  it('the rule catches a wrong-direction import', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'layering-'));
    try {
      mkdirSync(join(tmp, 'sfu'));
      mkdirSync(join(tmp, 'rtc'));
      writeFileSync(join(tmp, 'rtc', 'Session.ts'), "import { x } from '../sfu/Router.js';\n");
      writeFileSync(join(tmp, 'sfu', 'Router.ts'), "import type { Session } from '../rtc/Session.js';\nexport const x = 1;\n");
      expect(layeringViolations(tmp)).toEqual([`${join('sfu', 'Router.ts')} -> ../rtc/Session.js (sfu may not import rtc)`]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
