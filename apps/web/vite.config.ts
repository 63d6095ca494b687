import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const src = (p: string): string => fileURLToPath(new URL(`../../packages/${p}/src/index.ts`, import.meta.url));

// The app bundles the SDK from source (one request, one cache entry, no stale dist between edits).
// JSX is compiled by Vite's esbuild for Preact: no framework plugin needed.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  resolve: {
    alias: { '@convene/client': src('client'), '@convene/protocol': src('protocol') },
  },
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    reportCompressedSize: false,
  },
  server: {
    // `npm run dev -w apps/web` against `npm start` on the default port.
    proxy: { '/v1': { target: 'http://localhost:7880', ws: true }, '/dev': 'http://localhost:7880', '/healthz': 'http://localhost:7880', '/sdk': 'http://localhost:7880' },
  },
});
