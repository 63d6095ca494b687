#!/usr/bin/env node
// node bench/sfu-packet.mjs [--packets 300000] [--fanout 1,10,100]
// Micro-benchmark of the SFU's JavaScript forwarding path, without libdatachannel: one Producer receives
// 1100-byte VP8 packets (with a transport-cc extension) and fans them out to N Consumers whose tracks are
// stubs (sendMessageBinary does nothing). Measures the JS cost per subscriber-packet (rewrite + bookkeeping)
// and per publisher packet (RTX buffer copy, NACK/TWCC/receiver stats), and counts garbage collections during
// the run: the forwarding path must allocate nothing per packet per subscriber, so minor GCs should stay ~0.
// The sources are bundled on the fly with esbuild (no build step needed).
import { build } from 'esbuild';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const { values } = parseArgs({
  options: {
    packets: { type: 'string', default: '300000' },
    fanout: { type: 'string', default: '1,10,100' },
  },
});
const PACKETS = Number(values.packets);
const FANOUTS = values.fanout.split(',').map(Number);

const sfu = join(root, 'packages/server/src/sfu');
const out = await build({
  stdin: {
    contents: `
      export { Producer } from './Producer.ts';
      export { Consumer } from './Consumer.ts';
      export { MediaCounters } from './counters.ts';
      export { TwccRecorder } from './TwccRecorder.ts';
    `,
    resolveDir: sfu,
    loader: 'ts',
  },
  bundle: true,
  write: false,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['node-datachannel'],
  alias: { '@convene/protocol': join(root, 'packages/protocol/src/index.ts') },
});
const dir = mkdtempSync(join(tmpdir(), 'sfu-bench-'));
const file = join(dir, 'sfu.mjs');
writeFileSync(file, out.outputFiles[0].text);
const { Producer, Consumer, MediaCounters, TwccRecorder } = await import(pathToFileURL(file).href);
rmSync(dir, { recursive: true, force: true });

let sink = 0;
function stubTrack() {
  return {
    cb: undefined,
    onMessage(cb) {
      this.cb = cb;
    },
    onOpen(cb) {
      cb();
    },
    onClosed() {},
    sendMessageBinary(b) {
      sink ^= b[3];
      return true;
    },
  };
}

const now = () => performance.now();
function rig(fanout) {
  const counters = new MediaCounters();
  const media = {
    mid: '0',
    kind: 'video',
    codec: 'VP8',
    payloadType: 96,
    clockRate: 90000,
    channels: 1,
    fmtp: '',
    rtxPayloadType: 97,
    ssrc: 0x1111,
    rtxSsrc: 0x1112,
    cname: 'bench',
    transportCcId: 3,
    audioLevelId: -1,
    nack: true,
  };
  const producer = new Producer({ media, rtcpSsrc: 1, counters, twcc: new TwccRecorder(), now, nowUs: () => now() * 1000 });
  const ptrack = stubTrack();
  producer._attachTrack(ptrack);
  producer._setTransportReady();
  for (let i = 0; i < fanout; i++) {
    const c = new Consumer({
      mid: String(i),
      producer,
      ssrc: 0x10000 + i,
      rtxSsrc: 0x20000 + i,
      payloadType: 98,
      rtxPayloadType: 99,
      cname: 'bench',
      counters,
      now,
    });
    c._attachTrack(stubTrack());
    c._setTransportReady();
    producer._addConsumer(c);
  }
  return { deliver: ptrack.cb, counters };
}

// One 1100-byte VP8 packet: header, one-byte extension block with transport-cc, VP8 descriptor + payload.
const pkt = Buffer.alloc(1100);
function stamp(seq, key) {
  pkt[0] = 0x90;
  pkt[1] = 96;
  pkt.writeUInt16BE(seq & 0xffff, 2);
  pkt.writeUInt32BE((Math.floor(seq / 3) * 3000) >>> 0, 4);
  pkt.writeUInt32BE(0x1111, 8);
  pkt.writeUInt16BE(0xbede, 12);
  pkt.writeUInt16BE(1, 14);
  pkt[16] = (3 << 4) | 1;
  pkt.writeUInt16BE(seq & 0xffff, 17);
  pkt[20] = 0x10;
  pkt[21] = key ? 0x10 : 0x11;
}

let gcs = { minor: 0, major: 0 };
const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = e.detail?.kind ?? e.kind;
    if (kind === 1) gcs.minor++; // NODE_PERFORMANCE_GC_MINOR
    else gcs.major++;
  }
});
obs.observe({ entryTypes: ['gc'] });

const results = [];
for (const fanout of FANOUTS) {
  const { deliver, counters } = rig(fanout);
  const packets = Math.max(2000, Math.floor(PACKETS / Math.max(1, fanout / 10)));
  // Warm up (JIT) outside the measurement.
  for (let s = 0; s < 20000; s++) {
    stamp(s, s % 300 === 0);
    deliver(pkt);
  }
  await new Promise((r) => setTimeout(r, 50));
  gcs = { minor: 0, major: 0 };
  const t0 = process.cpuUsage();
  const w0 = performance.now();
  for (let s = 20000; s < 20000 + packets; s++) {
    stamp(s, s % 300 === 0);
    deliver(pkt);
  }
  const cpu = process.cpuUsage(t0);
  const wall = performance.now() - w0;
  await new Promise((r) => setTimeout(r, 50)); // let GC entries be delivered
  const usCpu = cpu.user + cpu.system;
  const row = {
    fanout,
    packets,
    forwarded: counters.rtpPacketsForwarded,
    usPerPublisherPacket: +(usCpu / packets).toFixed(3),
    usPerSubscriberPacket: +(usCpu / (packets * fanout)).toFixed(4),
    wallMs: +wall.toFixed(1),
    minorGcs: gcs.minor,
    majorGcs: gcs.major,
  };
  results.push(row);
  process.stderr.write(JSON.stringify(row) + '\n');
}
obs.disconnect();
process.stdout.write(JSON.stringify({ results, sink }, null, 2) + '\n');
