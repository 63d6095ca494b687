#!/usr/bin/env node
// `npm test`: install what the suite needs when it is missing, build, then run every test.
import { execSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const sh = (cmd) => execSync(cmd, { stdio: 'inherit' });
const has = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;

let aptUpdated = false;
function aptInstall(pkgs) {
  if (process.getuid?.() !== 0) {
    console.warn(`[test] missing ${pkgs.join(' ')} and not root: install them yourself`);
    return;
  }
  if (!aptUpdated) {
    sh('apt-get update -qq');
    aptUpdated = true;
  }
  sh(`DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${pkgs.join(' ')}`);
}

// Browser tests drive Debian's Chromium through playwright-core.
if (!existsSync('/usr/bin/chromium')) aptInstall(['chromium']);
// Connectivity tests build network namespaces (iproute2), NAT them (nftables) and relay through coturn.
const netTools = [['turnserver', 'coturn'], ['nft', 'nftables'], ['ip', 'iproute2']].filter(([bin]) => !has(bin)).map(([, pkg]) => pkg);
if (netTools.length > 0) aptInstall(netTools);
// Cluster tests need a Redis; start one when none answers.
if (!has('redis-server')) aptInstall(['redis-server']);
const redisUp = spawnSync('redis-cli', ['-h', '127.0.0.1', 'ping'], { encoding: 'utf8' }).stdout?.trim() === 'PONG';
if (!redisUp && has('redis-server')) {
  sh('redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no');
}

sh('npm run build --silent');
const args = process.argv.slice(2);
const r = spawnSync('npx', ['vitest', 'run', ...args], { stdio: 'inherit' });
process.exit(r.status ?? 1);
