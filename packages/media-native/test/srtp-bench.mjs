// Micro-benchmark of src/srtp.cc (not a test): ns per ProtectRtp/UnprotectRtp of a 1100-byte RTP packet, timed
// inside C++ (no N-API per packet), median of several runs; the HMAC-SHA1 strategies srtp.cc chose between; and
// the memory one session holds.
//   node /usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js rebuild --nodedir=/usr -C packages/media-native/test
//   node packages/media-native/test/srtp-bench.mjs [packetBytes] [runs]
// The 2-core VM this project runs on is noisy: compare numbers from the same run, and prefer the median.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const addonPath = fileURLToPath(new URL('./build/Release/srtp_test.node', import.meta.url));
if (!existsSync(addonPath)) {
  console.error(`${addonPath} is not built (see the header of this file)`);
  process.exit(1);
}
const addon = createRequire(import.meta.url)(addonPath);

const len = Number(process.argv[2] ?? 1100);
const runs = Number(process.argv[3] ?? 9);
const iters = 50_000;
const profiles = [
  ['AEAD_AES_128_GCM', 0x0007],
  ['AEAD_AES_256_GCM', 0x0008],
  ['AES_CM_128_HMAC_SHA1_80', 0x0001],
  ['AES_CM_128_HMAC_SHA1_32', 0x0002],
];

function stats(f) {
  const r = [];
  for (let i = 0; i < runs; i++) r.push(f());
  r.sort((a, b) => a - b);
  return { median: r[Math.floor(r.length / 2)], min: r[0], max: r[r.length - 1] };
}
const fmt = ({ median, min, max }) =>
  `${median.toFixed(0).padStart(5)} ns  (min ${min.toFixed(0)}, max ${max.toFixed(0)})`;

console.log(`SRTP, ${len}-byte RTP packet, median of ${runs} runs x ${iters}:`);
for (const [name, id] of profiles) {
  addon.benchProtect(id, 'rtp', len, 5000); // warm-up
  console.log(`  ProtectRtp   ${name.padEnd(24)} ${fmt(stats(() => addon.benchProtect(id, 'rtp', len, iters)))}`);
  console.log(`  UnprotectRtp ${name.padEnd(24)} ${fmt(stats(() => addon.benchProtect(id, 'unprotectRtp', len, 20_000)))}`);
}
console.log(`  ProtectRtcp  AEAD_AES_128_GCM, 100 B     ${fmt(stats(() => addon.benchProtect(0x0007, 'rtcp', 100, iters)))}`);
console.log(`  ProtectRtcp  AES_CM_128_HMAC_SHA1_80, 100 B ${fmt(stats(() => addon.benchProtect(0x0001, 'rtcp', 100, iters)))}`);

console.log(`HMAC-SHA1 over ${len} + 4 bytes (the strategies srtp.cc chose between):`);
for (const m of ['precomputed', 'hmacCtxReinit', 'evpMacReinit', 'evpMacDup']) {
  addon.benchHmac(m, len, 5000);
  console.log(`  ${m.padEnd(14)} ${fmt(stats(() => addon.benchHmac(m, len, iters)))}`);
}

console.log('Memory per SrtpSession (2 SSRCs protected):');
for (const [name, id] of profiles) {
  const m = addon.memory(id, 1000, 2);
  console.log(
    `  ${name.padEnd(24)} sizeof ${m.sizeofSession} B, Impl ${m.implSize} B, own heap ${m.ownHeapBytes} B, ` +
      `total heap incl. OpenSSL contexts ${m.heapPerSession.toFixed(0)} B`,
  );
}
