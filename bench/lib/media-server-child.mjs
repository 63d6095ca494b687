// A Convene server (signaling + SFU) in its own process for the media benchmarks. Started pinned
// to one core (`taskset -c 0`); media on 127.0.0.1. IPC: { cmd: 'gc' } -> { gc: true } after a
// full collection; { cmd: 'close' } -> exits. Sends { ready, url, pid } first.
import { startServer } from '@convene/server';

const server = await startServer({
  port: 0,
  host: '127.0.0.1',
  rtcBindAddress: '127.0.0.1',
  apiKey: process.env.BENCH_API_KEY,
  apiSecret: process.env.BENCH_API_SECRET,
  logLevel: 'silent',
});

process.on('message', async (msg) => {
  if (msg.cmd === 'gc') {
    for (let i = 0; i < 2; i++) {
      globalThis.gc?.();
      await new Promise((r) => setTimeout(r, 50));
    }
    process.send({ gc: true });
  } else if (msg.cmd === 'close') {
    await server.close();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true, url: server.url, pid: process.pid });
