import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string): string => fileURLToPath(new URL(`./packages/${p}/src/index.ts`, import.meta.url));

// Tests run on the TypeScript sources: no stale dist between edits.
export default defineConfig({
  resolve: {
    alias: {
      '@convene/client/node': fileURLToPath(new URL('./packages/client/src/media/node/index.ts', import.meta.url)),
      '@convene/protocol': src('protocol'),
      '@convene/client': src('client'),
      '@convene/server-sdk': src('server-sdk'),
      '@convene/server': src('server'),
    },
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'tools/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
