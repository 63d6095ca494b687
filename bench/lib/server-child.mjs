// A Convene server in its own process, so the benchmark can read its memory alone.
// IPC: { cmd: 'rss' } -> { rss, heapUsed } after a full GC; { cmd: 'close' } -> exits.
import { startServer } from '@convene/server';

const server = await startServer({
  port: 0,
  apiKey: process.env.BENCH_API_KEY,
  apiSecret: process.env.BENCH_API_SECRET,
  logLevel: 'silent',
});

async function settle() {
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.();
    await new Promise((r) => setTimeout(r, 100));
  }
}

process.on('message', async (msg) => {
  if (msg.cmd === 'rss') {
    await settle();
    const m = process.memoryUsage();
    process.send({ rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers });
  } else if (msg.cmd === 'close') {
    await server.close();
    process.exit(0);
  }
});
process.send({ ready: true, url: server.url });
