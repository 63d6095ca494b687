// A load-test worker process: runs the bots the coordinator assigns to it and answers its
// commands over the IPC channel (see types.ts: ToWorker / FromWorker). Started with fork().
import type { Bot } from './bots/Bot.js';
import { ConveneBot } from './bots/ConveneBot.js';
import { JanusBot } from './bots/JanusBot.js';
import type { BotPlan, FromWorker, ToWorker, WorkerConfig, WorkerProgress } from './types.js';

if (!process.send) {
  process.stderr.write('@convene/loadtest worker: must be started by the load tester (fork with an IPC channel)\n');
  process.exit(2);
}

const send = (m: FromWorker): void => {
  if (process.connected) process.send?.(m);
};

let config: WorkerConfig | null = null;
const bots = new Map<string, Bot>();
let progressTimer: NodeJS.Timeout | undefined;
let stopping = false;

function createBot(plan: BotPlan, c: WorkerConfig): Bot {
  if (c.target.kind === 'janus') {
    return new JanusBot(plan, { url: c.target.url, room: c.target.room, media: c.media, bindAddress: c.bindAddress, tracksExpected: c.expectedTracks[plan.session] ?? 0 });
  }
  return new ConveneBot(plan, {
    url: c.target.url,
    media: c.media,
    joinTimeoutMs: c.joinTimeoutMs,
    bindAddress: c.bindAddress,
    tracksExpected: c.expectedTracks[plan.session] ?? 0,
  });
}

let last = { bytes: 0, packets: 0, lost: 0, at: performance.now() };

/** Counters for the live display (getStats() on every subscriber: every 2 s, not more, to stay cheap). */
function progress(): WorkerProgress {
  const p: WorkerProgress = { joined: 0, tracksReceiving: 0, tracksExpected: 0, packetsReceived: 0, packetsLost: 0, bytesReceived: 0, errors: 0, disconnected: 0, bitrate: 0, intervalPackets: 0, intervalLost: 0 };
  for (const bot of bots.values()) {
    const s = bot.snapshot();
    if (s.joined) p.joined++;
    if (s.joined && !s.connected) p.disconnected++;
    p.errors += s.errors.length;
    p.tracksExpected += s.tracksExpected;
    for (const t of s.received) {
      if (t.packetsReceived > 0) p.tracksReceiving++;
      p.packetsReceived += t.packetsReceived;
      p.packetsLost += t.packetsLost;
      p.bytesReceived += t.bytesReceived;
    }
  }
  const now = performance.now();
  p.bitrate = Math.max(0, ((p.bytesReceived - last.bytes) * 8 * 1000) / Math.max(1, now - last.at));
  p.intervalPackets = Math.max(0, p.packetsReceived - last.packets);
  p.intervalLost = Math.max(0, p.packetsLost - last.lost);
  last = { bytes: p.bytesReceived, packets: p.packetsReceived, lost: p.packetsLost, at: now };
  return p;
}

async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(progressTimer);
  await Promise.all([...bots.values()].map((b) => b.close()));
  send({ ev: 'stopped' });
  // Native threads (libdatachannel) may hold the loop open: exit explicitly once everything is closed.
  setTimeout(() => process.exit(0), 50);
}

process.on('message', (m: ToWorker) => {
  switch (m.cmd) {
    case 'init':
      config = m.config;
      progressTimer = setInterval(() => send({ ev: 'progress', progress: progress() }), 2000);
      send({ ev: 'ready' });
      break;
    case 'join': {
      if (!config || stopping) return;
      const bot = createBot(m.bot, config);
      bots.set(bot.id, bot);
      bot.onError = (error) => send({ ev: 'error', botId: bot.id, error });
      bot.join(config.joinTimeoutMs).then(
        (joinMs) => send({ ev: 'joined', botId: bot.id, joinMs }),
        () => {
          // Already reported through onError; release what the failed join holds.
          void bot.close();
        },
      );
      break;
    }
    case 'pause':
      for (const b of bots.values()) b.pause();
      send({ ev: 'paused' });
      break;
    case 'resume':
      for (const b of bots.values()) b.resume();
      send({ ev: 'resumed' });
      break;
    case 'snapshot':
      send({ ev: 'snapshot', seq: m.seq, bots: [...bots.values()].map((b) => b.snapshot()) });
      break;
    case 'stop':
      void stop();
      break;
  }
});

// The coordinator went away (killed, crashed): never outlive it.
process.on('disconnect', () => {
  void stop().finally(() => process.exit(0));
  setTimeout(() => process.exit(1), 5000).unref();
});

