// A Convene server (signaling + SFU, media on 127.0.0.1) in its own process for the time-to-first-frame
// benchmark, so the browser and the server do not share an event loop. IPC: { cmd: 'close' } -> exits.
// Sends { ready, url, pid } first, then { rtc, at } events (below).
import { startServer } from '@convene/server';

// The SFU's own view of each subscriber's transport, from libdatachannel's log (Info level, a few lines per peer
// connection): when its ICE agent connects and when its DTLS handshake ends, as epoch ms taken when the log line
// reaches JavaScript, sent to the parent as { rtc: 'iceConnected' | 'dtlsDone', at }.
// TTFF_RTC_LOG=Debug|Verbose also prints the whole log on stdout, for investigations.
const verbose = process.env.TTFF_RTC_LOG;
(await import('node-datachannel')).initLogger(verbose || 'Info', (level, message) => {
  const at = performance.timeOrigin + performance.now();
  if (verbose) process.stdout.write(`[rtc ${at.toFixed(1)}] ${level} ${message}\n`);
  if (message.includes('juice: Changing state to connected')) process.send?.({ rtc: 'iceConnected', at });
  else if (message.includes('DTLS handshake finished')) process.send?.({ rtc: 'dtlsDone', at });
});

const server = await startServer({
  port: 0,
  host: '127.0.0.1',
  rtcPort: 0,
  rtcBindAddress: '127.0.0.1',
  apiKey: process.env.BENCH_API_KEY,
  apiSecret: process.env.BENCH_API_SECRET,
  logLevel: 'silent',
});

process.on('message', async (msg) => {
  if (msg.cmd === 'close') {
    await server.close();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true, url: server.url, pid: process.pid, rtcPort: server.rtcPort });
