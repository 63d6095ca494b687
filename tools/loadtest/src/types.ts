// Shapes shared by the coordinator and its worker processes (they travel over IPC as JSON).

/** What a bot does in its session. */
export type BotRole = 'publisher' | 'subscriber';

/** Kinds of failure a bot reports. `auth` aborts the whole run at once (nothing else can succeed). */
export type BotErrorKind = 'auth' | 'connect' | 'publish' | 'subscribe' | 'disconnected' | 'media' | 'timeout';

/** Which server the bots talk to. The load tester's users only ever use `convene`; `janus` serves bench/vs-janus. */
export type Target = { kind: 'convene'; url: string } | { kind: 'janus'; url: string; room: number };

/** One bot, as the coordinator plans it. */
export interface BotPlan {
  id: string;
  role: BotRole;
  /** Session name (Convene) or room label (Janus). */
  session: string;
  /** Signed token (Convene). */
  token?: string;
  video: boolean;
  audio: boolean;
  /** Janus only: the publisher feed ids to subscribe to are learnt from the room; nothing to plan. */
}

/** Media settings every publisher uses. */
export interface MediaSettings {
  width: number;
  height: number;
  fps: number;
  /** Video target bit rate, bit/s. */
  videoBitrate: number;
  keyframeIntervalMs: number;
}

/** Sent once to each worker. */
export interface WorkerConfig {
  target: Target;
  media: MediaSettings;
  joinTimeoutMs: number;
  /** Local address for media sockets (undefined = all). */
  bindAddress?: string;
  /** Tracks each subscriber should end up receiving, per session. */
  expectedTracks: Record<string, number>;
}

/** Counters of one track a publisher sends. */
export interface SentTrack {
  kind: 'audio' | 'video';
  streamId: string;
  packetsSent: number;
  bytesSent: number;
  packetsRetransmitted: number;
  nacksReceived: number;
  plisReceived: number;
  keyframesSent: number;
}

/** Counters of one track a subscriber receives. */
export interface ReceivedTrack {
  kind: 'audio' | 'video';
  streamId: string;
  packetsReceived: number;
  bytesReceived: number;
  packetsLost: number;
  packetsDuplicated: number;
  framesReceived: number;
  keyframesReceived: number;
  latencyP50Ms: number | null;
  latencyP99Ms: number | null;
  jitterMs: number;
  nacksSent: number;
}

/** One error a bot met. */
export interface BotError {
  kind: BotErrorKind;
  message: string;
  /** ms since the epoch. */
  at: number;
}

/** Everything a bot knows at one instant. */
export interface BotSnapshot {
  id: string;
  role: BotRole;
  session: string;
  /** true once joined (publisher: published and its media connected; subscriber: connected to the session). */
  joined: boolean;
  /** Connect call to joined, ms. */
  joinMs: number | null;
  /** Stream announced to first key frame (or first audio packet), ms, one per subscribed stream. */
  subscribeMs: number[];
  sent: SentTrack[];
  received: ReceivedTrack[];
  tracksExpected: number;
  errors: BotError[];
  /** Still connected (false after the server dropped it). */
  connected: boolean;
}

/** Coordinator -> worker. */
export type ToWorker =
  | { cmd: 'init'; config: WorkerConfig }
  | { cmd: 'join'; bot: BotPlan }
  | { cmd: 'pause' }
  | { cmd: 'resume' }
  | { cmd: 'snapshot'; seq: number }
  | { cmd: 'stop' };

/** Live counters a worker reports about once a second. */
export interface WorkerProgress {
  joined: number;
  tracksReceiving: number;
  tracksExpected: number;
  packetsReceived: number;
  packetsLost: number;
  bytesReceived: number;
  errors: number;
  disconnected: number;
  /** Receive bit rate since the worker's previous report, bit/s. */
  bitrate: number;
  /** Packets received and lost since the previous report. */
  intervalPackets: number;
  intervalLost: number;
}

/** Worker -> coordinator. */
export type FromWorker =
  | { ev: 'ready' }
  | { ev: 'joined'; botId: string; joinMs: number }
  | { ev: 'error'; botId: string; error: BotError }
  | { ev: 'progress'; progress: WorkerProgress }
  | { ev: 'snapshot'; seq: number; bots: BotSnapshot[] }
  | { ev: 'paused' }
  | { ev: 'resumed' }
  | { ev: 'stopped' };
