#!/usr/bin/env node
// Builds dist/convene.js: the browser SDK as one minified IIFE defining the global `OT`, so a page
// can run the reference's examples unchanged. The server serves it at /sdk/convene.js; loaded from
// there, `OT.initSession(apiKey, sessionId)` talks to that server (the script's origin).
//
//   node scripts/bundle.mjs            # writes dist/convene.js (+ .map) and prints its size
//   import { bundleSdk } from './bundle.mjs'   # { code, bytes, gzipBytes } without writing
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

/** Node-only modules that must never reach the browser bundle. */
export const NODE_ONLY = ['node-datachannel', 'ws', 'node:', 'NodePeerConnection', 'SyntheticVideoSource', 'Vp8SyntheticEncoder'];

/** The bundle in memory: `{ code, map, bytes, gzipBytes }`. */
export async function bundleSdk({ sourcemap = true } = {}) {
  const out = await build({
    // A tiny entry that exposes the OT object (with the whole API on it) as `window.OT`.
    stdin: {
      contents: `import * as sdk from './src/index.ts';\nexport default sdk;\nObject.assign(sdk.OT, { Session: sdk.Session, Stream: sdk.Stream, Publisher: sdk.Publisher, Subscriber: sdk.Subscriber, createClient: sdk.createClient, ConveneError: sdk.ConveneError });\nglobalThis.OT = sdk.OT;\nglobalThis.Convene = sdk;\n`,
      resolveDir: root,
      sourcefile: 'convene-entry.ts',
      loader: 'ts',
    },
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    legalComments: 'none',
    sourcemap: sourcemap ? 'external' : false,
    outfile: join(root, 'dist/convene.js'),
    logLevel: 'silent',
    plugins: [
      {
        // Resolve the workspace protocol package from its sources (no build order dependency).
        name: 'convene-protocol-source',
        setup(b) {
          b.onResolve({ filter: /^@convene\/protocol$/ }, () => ({ path: join(root, '../protocol/src/index.ts') }));
        },
      },
    ],
  });
  const js = out.outputFiles.find((f) => f.path.endsWith('.js'));
  const map = out.outputFiles.find((f) => f.path.endsWith('.map'));
  if (!js) throw new Error('esbuild produced no JavaScript');
  const code = js.text;
  return { code, map: map?.text, bytes: Buffer.byteLength(code), gzipBytes: gzipSync(code, { level: 9 }).length };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { code, map, bytes, gzipBytes } = await bundleSdk();
  mkdirSync(join(root, 'dist'), { recursive: true });
  writeFileSync(join(root, 'dist/convene.js'), code);
  if (map) writeFileSync(join(root, 'dist/convene.js.map'), map);
  console.log(`dist/convene.js: ${(bytes / 1024).toFixed(1)} KB minified, ${(gzipBytes / 1024).toFixed(1)} KB gzip`);
}
