// A worker process holding many SDK sessions without media (bots), driven over IPC by signaling.mjs.
import { initSession } from '@convene/client';
import { createToken } from '@convene/server-sdk';

const { url, apiKey, apiSecret, sessionName, first, count, concurrency } = JSON.parse(process.env.BOT_CONFIG);
const sessions = [];
const latencies = [];
let sender = null;

const now = () => performance.timeOrigin + performance.now();

async function joinOne(i) {
  const token = await createToken({ apiKey, apiSecret, sessionId: sessionName, role: 'publisher', userName: `bot-${i}` });
  // Bots share two cores with the server and thousands of siblings: their own event loops are the slow part,
  // so give the socket longer to open than an interactive client would.
  const session = initSession(apiKey, sessionName, { serverUrl: url, connectTimeoutMs: 120_000 });
  session.on('signal:bench', (e) => {
    latencies.push(now() - JSON.parse(e.data).t);
  });
  await session.connect(token);
  sessions.push(session);
  return session;
}

async function joinAll() {
  let next = first;
  const end = first + count;
  const errors = [];
  async function lane() {
    while (next < end) {
      const i = next++;
      try {
        await joinOne(i);
      } catch (err) {
        errors.push(String(err?.message ?? err));
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return errors;
}

process.on('message', async (msg) => {
  try {
    if (msg.cmd === 'join') {
      const t0 = now();
      const errors = await joinAll();
      process.send({ joined: sessions.length, errors: errors.slice(0, 5), errorCount: errors.length, ms: now() - t0, doneAt: now() });
    } else if (msg.cmd === 'broadcast') {
      sender ??= sessions[0];
      await sender.signal({ type: 'bench', data: JSON.stringify({ t: now(), k: msg.k }) });
      process.send({ sent: msg.k });
    } else if (msg.cmd === 'latencies') {
      process.send({ latencies: latencies.splice(0) });
    } else if (msg.cmd === 'close') {
      for (const s of sessions) s.disconnect();
      setTimeout(() => process.exit(0), 500);
    }
  } catch (err) {
    process.send({ error: String(err?.stack ?? err) });
  }
});
process.send({ ready: true });
