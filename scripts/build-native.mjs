#!/usr/bin/env node
// Builds the SFU's native transport (packages/media-native) with node-gyp when it is missing or older than its
// sources. A failed build is not fatal: the server then uses libdatachannel (node-datachannel) and says so.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = join(root, 'packages/media-native');
const out = join(pkg, 'build/Release/convene_media.node');
const force = process.argv.includes('--force');

function newestSource() {
  let t = statSync(join(pkg, 'binding.gyp')).mtimeMs;
  for (const f of readdirSync(join(pkg, 'src'))) t = Math.max(t, statSync(join(pkg, 'src', f)).mtimeMs);
  return t;
}

if (!force && existsSync(out) && statSync(out).mtimeMs >= newestSource()) process.exit(0);

// npm ships node-gyp; find its script whether or not npm put it on PATH.
function nodeGyp() {
  const candidates = [];
  try {
    candidates.push(createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not a dependency of ours
  }
  const npmDir = dirname(dirname(process.env.npm_execpath ?? join(dirname(process.execPath), '../lib/node_modules/npm/bin/npm-cli.js')));
  candidates.push(join(npmDir, 'node_modules/node-gyp/bin/node-gyp.js'));
  candidates.push(join(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'));
  return candidates.find((c) => existsSync(c));
}

const gyp = nodeGyp();
// Node's headers (OpenSSL included) ship with Debian's nodejs under /usr/include/node; elsewhere node-gyp fetches them.
const nodedir = existsSync('/usr/include/node/node_api.h') ? ['--nodedir=/usr'] : [];
if (!gyp) {
  console.warn('[build-native] node-gyp not found: the server will use libdatachannel for media');
  process.exit(0);
}
const jobs = ['-j', 'max'];
const build = (dir) => spawnSync(process.execPath, [gyp, 'rebuild', ...jobs, ...nodedir], { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] }).status === 0;
if (!build(pkg)) {
  console.warn('[build-native] the native media transport did not build: the server will use libdatachannel for media');
  process.exit(0);
}
// The SRTP test addon (packages/media-native/test: RFC vectors against src/srtp.cc).
if (!build(join(pkg, 'test'))) console.warn('[build-native] the SRTP test addon did not build: its tests will be skipped');
