/** Wire protocol version carried in every envelope as `v`. */
export const PROTOCOL_VERSION = 1;

/** Limits shared by server and clients. Changing one is a protocol change. */
export const limits = {
  /** Session names: characters, stored lower-case. */
  sessionNameMaxLength: 150,
  /** Display names longer than this are truncated without error. */
  userNameMaxLength: 200,
  /** Passcodes: printable ASCII (32..126) only. */
  passcodeMaxLength: 10,
  /** Signal `type`: characters of `A-Za-z0-9-_~`. */
  signalTypeMaxLength: 128,
  /** Signal `data`: bytes of UTF-8. */
  signalDataMaxBytes: 8192,
  /** Token-supplied connection data (OpenTok allows 1000 characters). */
  connectionDataMaxLength: 1000,
  /** Largest WebSocket message the server accepts; larger ones close the socket with 1009. */
  maxFrameBytes: 64 * 1024,
  /** SDP offers (publish, subscribe): bytes of UTF-8. Chrome's offers with candidates are ≈ 4–10 kB. */
  sdpMaxBytes: 32 * 1024,
  /** Stream names: characters. */
  streamNameMaxLength: 1000,
  /** ICE candidate lines and mids in `candidate`: characters. */
  candidateMaxLength: 1024,
  /** Streams one connection may publish at once (camera + screen + spares); more: OT_LIMIT_EXCEEDED. */
  maxStreamsPerConnection: 4,
  /** Subscriptions one connection may hold at once (each is a peer connection on the server). */
  maxSubscriptionsPerConnection: 256,
  /** `forceMuteAll.excludedStreamIds`: entries. */
  excludedStreamsMax: 1000,
  /** Requests per connection: token bucket. */
  rateLimitBurst: 200,
  rateLimitPerSecond: 100,
  /** Client heartbeat: a ping every interval; no traffic for `heartbeatTimeoutMs` means the socket is dead. */
  heartbeatIntervalMs: 2500,
  heartbeatTimeoutMs: 7500,
  /** Client retries its socket at least this often while reconnecting. */
  reconnectRetryMs: 2000,
  /** How long the server keeps a vanished connection's place (and the client keeps trying). */
  resumeWindowMs: 60_000,
  /** Default idle timeout (host alone) in minutes. */
  defaultIdleTimeoutMins: 40,
  /** A connect request must complete within this many ms or the socket is closed. */
  authTimeoutMs: 10_000,
  /** Sessions at or above this many connections get connection events coalesced into batches. */
  coalesceConnectionEventsAt: 100,
  /** Flush interval of coalesced connection events, ms. */
  coalesceIntervalMs: 100,
} as const;

/** Signal type alphabet from the reference. */
export const SIGNAL_TYPE_PATTERN = /^[A-Za-z0-9\-_~]*$/;

/** WebSocket signaling endpoint path on the server; SDKs derive `ws(s)://host/v1/ws` from an http(s) server URL. */
export const SIGNALING_PATH = '/v1/ws';

/** Default port of `convene start`. */
export const DEFAULT_PORT = 7880;
