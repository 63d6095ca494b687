import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { AddressInfo } from 'node:net';
import { limits, SIGNALING_PATH } from '@convene/protocol';
import { createBackends, type Backends } from '../routing/createBackends.js';
import { SessionManager } from '../rtc/SessionManager.js';
import { MediaWorker, nativeLoadError, type MediaTransportKind } from '../sfu/index.js';
import { createRootLogger, moduleLogger, type LogLevel, type Logger } from '../util/log.js';
import { landingPage } from './landing.js';
import { createMetrics } from './metrics.js';
import { handleRest } from './rest.js';
import { serveSdk } from './sdk.js';
import { SfuMediaPlane, type MediaTestHooks } from './SfuMediaPlane.js';
import { createWebApp } from './webApp.js';
import { createIceServerProvider, type IceServerOption } from './iceServers.js';
import { SessionModes } from './SessionModes.js';
import { connectionTestPage } from './connectionTestPage.js';
import { detectPublicIp } from './detectPublicIp.js';
import { SignalingServer } from './SignalingServer.js';

/** Default UDP port of the media plane (one port for every peer connection). */
export const DEFAULT_RTC_PORT = 7882;

/** Version reported in `hello` and on the landing page. */
export const SERVER_VERSION = '0.1.0';

/** Options of startServer. Every field is optional. */
export interface ServerOptions {
  /** TCP port; 0 picks a free one. Default 7880. */
  port?: number;
  /** Address to listen on. Default: dual-stack `::` (falls back to 0.0.0.0 without IPv6). */
  host?: string;
  /** API key and secret. Without them the server runs in dev mode and generates both. */
  apiKey?: string;
  apiSecret?: string;
  /** pino level or 'silent'. Default 'info'. */
  logLevel?: LogLevel;
  /** Use this logger instead of creating one (logLevel is then ignored). */
  logger?: Logger;
  /** Production mode: API key and secret are required. */
  production?: boolean;
  /** How long a vanished connection keeps its place, ms. Default limits.resumeWindowMs. */
  resumeWindowMs?: number;
  /** Heartbeat interval told to clients, ms. */
  heartbeatIntervalMs?: number;
  /** Heartbeat timeout told to clients; the server drops a socket silent for twice this, ms. */
  heartbeatTimeoutMs?: number;
  /** A socket must complete connect within this, ms. */
  authTimeoutMs?: number;
  /** Server-wide idle timeout (host alone), minutes. Default 40. */
  sessionIdleTimeoutMins?: number;
  /** Per-connection request rate limit (token bucket). */
  rateLimit?: { burst: number; perSecond: number };
  /** Replay buffer bounds per connection; a connection exceeding them is dropped. */
  replayBuffer?: { maxFrames?: number; maxBytes?: number };
  /** Connection-event coalescing threshold and interval. */
  coalesceConnectionEventsAt?: number;
  coalesceIntervalMs?: number;
  /** Redis URL for cluster state (not available yet). */
  redisUrl?: string;
  /**
   * The one UDP port of the media plane (ICE UDP mux: every peer connection shares it). Default 7882, or a
   * free port when `port` is 0 (tests); 0 picks a free port.
   */
  rtcPort?: number;
  /** Local address the media port binds. Default '0.0.0.0'. */
  rtcBindAddress?: string;
  /**
   * UDP port of the SFU's tiebreaker proxy, which browsers relaying through TURN over TCP/TLS reach the SFU
   * through (sfu/TiebreakerProxy.ts). Default `rtcPort + 1` when `rtcPort` is fixed (skipped with a warning if
   * that port is taken), none with a free `rtcPort`; `null` turns it off.
   */
  rtcProxyPort?: number | null;
  /**
   * The media transport: 'native' (`@convene/media-native`, the default when it is built) or 'libdatachannel'
   * (node-datachannel; needs the tiebreaker proxy for browsers relaying over TURN/TCP).
   */
  mediaTransport?: MediaTransportKind;
  /** Public IP written into the SFU's ICE candidates, for a server behind NAT (e.g. a cloud VM's public address). */
  announcedIp?: string;
  /** Run without a media plane: publish/subscribe fail with OT_INVALID_STATE. Default true (media on). */
  media?: boolean;
  /** Test-only hooks (loss injection toward one subscriber). Refused in production mode. */
  testHooks?: MediaTestHooks;
  /**
   * STUN/TURN servers sent to every client at connect (`JoinedResult.iceServers`): static credentials,
   * or `secret` for short-lived per-connection credentials (TURN REST API, coturn `use-auth-secret`).
   */
  iceServers?: IceServerOption[];
  /**
   * When `announcedIp` is unset and a STUN/TURN server is configured, ask it (STUN over UDP, ≤ 2 s at
   * start) which address this host appears as, and announce that one if it is not a local address
   * (the server is behind NAT). Default true.
   */
  detectAnnouncedIp?: boolean;
}

/** A running server. */
export interface ConveneServer {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  readonly url: string;
  readonly port: number;
  readonly apiKey: string;
  readonly apiSecret: string;
  /** Whether the key and secret were generated (dev mode). */
  readonly devMode: boolean;
  /** The UDP port of the media plane, or null without media. */
  readonly rtcPort: number | null;
  /** The UDP port of the SFU's tiebreaker proxy (TURN/TCP relaying from browsers), or null without one. */
  readonly rtcProxyPort: number | null;
  /** The media transport in use, or null without media. */
  readonly mediaTransport: MediaTransportKind | null;
  /** The address written into the SFU's candidates (given, or detected behind NAT), or null for local addresses. */
  readonly announcedIp: string | null;
  /** Stop accepting, close every socket and timer. */
  close(): Promise<void>;
}

const CREDENTIAL = /^[A-Za-z0-9_-]+$/;

/**
 * Start a Convene server.
 *
 * @example
 * const server = await startServer({ port: 0, apiKey: 'key', apiSecret: 'secret', logLevel: 'silent' });
 * console.log(server.url); // http://127.0.0.1:54321
 * await server.close();
 */
export async function startServer(options: ServerOptions = {}): Promise<ConveneServer> {
  const root = options.logger ?? createRootLogger(options.logLevel ?? 'info');
  const log = moduleLogger(root, 'service.server');
  const production = options.production ?? false;
  if ((options.apiKey === undefined) !== (options.apiSecret === undefined)) throw new TypeError('Give both apiKey and apiSecret, or neither');
  if (production && options.apiKey === undefined) throw new TypeError('Production mode needs an API key and secret');
  const devMode = options.apiKey === undefined;
  const apiKey = options.apiKey ?? 'dev_' + randomBytes(9).toString('base64url');
  const apiSecret = options.apiSecret ?? randomBytes(24).toString('base64url');
  if (!CREDENTIAL.test(apiKey)) throw new TypeError('apiKey must be non-empty and use only A-Z, a-z, 0-9, _ and -');
  if (apiSecret.length === 0) throw new TypeError('apiSecret must not be empty');
  if (production && apiSecret.length < 16) throw new TypeError('Production mode needs an API secret of at least 16 characters');
  const secretFor = (key: string): string | undefined => (key === apiKey ? apiSecret : undefined);

  const resumeWindowMs = options.resumeWindowMs ?? limits.resumeWindowMs;
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? limits.heartbeatIntervalMs;
  const heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? limits.heartbeatTimeoutMs;
  const positive = (name: string, v: number): void => {
    if (!Number.isFinite(v) || v <= 0) throw new TypeError(`${name} must be a positive number`);
  };
  positive('resumeWindowMs', resumeWindowMs);
  positive('heartbeatIntervalMs', heartbeatIntervalMs);
  positive('heartbeatTimeoutMs', heartbeatTimeoutMs);
  const idleMins = options.sessionIdleTimeoutMins ?? limits.defaultIdleTimeoutMins;
  positive('sessionIdleTimeoutMins', idleMins);

  if (production && options.testHooks) throw new TypeError('testHooks are for tests only and refused in production mode');
  if (options.announcedIp !== undefined && isIP(options.announcedIp) === 0) throw new TypeError('announcedIp must be an IPv4 or IPv6 address');
  const iceServers = createIceServerProvider(options.iceServers);
  const sessionModes = new SessionModes();
  const rtcPort = options.rtcPort ?? (options.port === 0 ? 0 : DEFAULT_RTC_PORT);
  if (!Number.isSafeInteger(rtcPort) || rtcPort < 0 || rtcPort > 65535) throw new TypeError('rtcPort must be an integer in [0, 65535]');
  let announcedIp = options.announcedIp;
  if (announcedIp === undefined && options.media !== false && options.detectAnnouncedIp !== false && iceServers.size > 0) {
    const d = await detectPublicIp(options.iceServers);
    if (d.kind === 'public') {
      announcedIp = d.address;
      log.info({ announcedIp, via: d.via }, 'behind NAT: announcing the public address the STUN server sees (set announcedIp to override)');
    } else if (d.kind === 'failed') log.warn({ via: d.via, err: d.message }, 'could not detect the public address; announcing local addresses');
  }
  const worker =
    options.media === false
      ? null
      : await MediaWorker.create({
          listenIp: options.rtcBindAddress ?? '0.0.0.0',
          port: rtcPort,
          announcedAddress: announcedIp,
          tiebreakerProxyPort: options.rtcProxyPort,
          transport: options.mediaTransport,
        });
  if (worker?.transport === 'libdatachannel' && options.mediaTransport === undefined)
    log.warn({ err: nativeLoadError() }, 'the native media transport is not built (npm install builds it with node-gyp): using libdatachannel');
  if (worker?.transport === 'libdatachannel' && rtcPort !== 0 && options.rtcProxyPort === undefined && worker.tiebreakerProxyPort === null)
    log.warn({ port: rtcPort + 1 }, 'UDP port rtcPort + 1 is taken: browsers that can reach the server only through TURN over TCP/TLS will not connect (set rtcProxyPort)');
  const mediaPlane = worker ? new SfuMediaPlane(worker, moduleLogger(root, 'service.media'), options.testHooks) : null;

  const backends: Backends = createBackends({ redisUrl: options.redisUrl });
  if (backends.warning) log.warn(backends.warning);
  const manager = new SessionManager({
    store: backends.store,
    router: backends.router,
    log: root,
    resumeWindowMs,
    defaultIdleTimeoutMins: idleMins,
    replayLimits: { maxFrames: options.replayBuffer?.maxFrames ?? 20_000, maxBytes: options.replayBuffer?.maxBytes ?? 8 * 1024 * 1024 },
    coalesceAt: options.coalesceConnectionEventsAt ?? limits.coalesceConnectionEventsAt,
    coalesceIntervalMs: options.coalesceIntervalMs ?? limits.coalesceIntervalMs,
    media: mediaPlane,
    mediaModeOf: (sessionId) => sessionModes.modeOf(sessionId),
  });
  let signaling: SignalingServer | null = null;
  const metrics = createMetrics({
    sessions: () => manager.sessionCount,
    connections: () => manager.connectionCount,
    sockets: () => signaling?.socketCount ?? 0,
    streams: () => manager.streamCount,
    mediaRooms: () => mediaPlane?.roomCount ?? 0,
    mediaTransports: () => mediaPlane?.transportCount ?? 0,
    media: () => worker?.counters() ?? null,
  });
  signaling = new SignalingServer({
    manager,
    log: root,
    secretFor,
    serverVersion: SERVER_VERSION,
    heartbeatIntervalMs,
    heartbeatTimeoutMs,
    resumeWindowMs,
    authTimeoutMs: options.authTimeoutMs ?? limits.authTimeoutMs,
    rateLimit: options.rateLimit ?? { burst: limits.rateLimitBurst, perSecond: limits.rateLimitPerSecond },
    onInbound: () => metrics.inboundMessages.inc(),
    iceServersFor: iceServers.size > 0 ? (connectionId) => iceServers.forConnection(connectionId) : undefined,
  });
  const sig = signaling;
  const restCtx = { manager, log: moduleLogger(root, 'service.rest'), apiKey, apiSecret, secretFor, sessionModes };
  const landing = landingPage(SERVER_VERSION);
  const webApp = createWebApp({ devMode, apiKey, apiSecret, log: moduleLogger(root, 'service.web') });

  const connectionTest = connectionTestPage();
  const onRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0] as string;
    if (path === '/connection-test' && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(connectionTest), 'cache-control': 'no-cache' });
      res.end(req.method === 'HEAD' ? undefined : connectionTest);
      return;
    }
    if (await webApp.handle(req, res, path)) return;
    if (path === '/' && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(landing) });
      res.end(req.method === 'HEAD' ? undefined : landing);
    } else if (path === '/healthz') {
      const body = JSON.stringify({ status: 'ok', sessions: manager.sessionCount, connections: manager.connectionCount });
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    } else if (path === '/metrics' && req.method === 'GET') {
      const text = await metrics.registry.metrics();
      res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text);
    } else if (path === '/sdk/convene.js' && (req.method === 'GET' || req.method === 'HEAD')) {
      await serveSdk(req, res);
    } else if (!(await handleRest(req, res, path, restCtx))) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { name: 'OT_NOT_FOUND', code: 404, message: 'Not found' } }));
    }
  };

  const http: Server = createServer((req, res) => {
    onRequest(req, res).catch((err: unknown) => {
      log.error({ err }, 'HTTP request failed');
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  http.on('upgrade', (req, socket, head) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== SIGNALING_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    sig.handleUpgrade(req, socket, head);
  });
  http.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  let port: number;
  try {
    port = await listen(http, options.port ?? 7880, options.host);
  } catch (err) {
    worker?.close();
    throw err;
  }
  const host = options.host;
  const urlHost =
    host === undefined || host === '::' || host === '0.0.0.0' || host === 'localhost' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = `http://${urlHost}:${port}`;
  log.info({ url, devMode, backends: backends.kind, rtcPort: worker?.port ?? null, announcedIp }, 'listening');

  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    apiKey,
    apiSecret,
    devMode,
    rtcPort: worker?.port ?? null,
    rtcProxyPort: worker?.tiebreakerProxyPort ?? null,
    mediaTransport: worker?.transport ?? null,
    announcedIp: worker ? (announcedIp ?? null) : null,
    close(): Promise<void> {
      closing ??= (async () => {
        const httpClosed = new Promise<void>((resolve) => http.close(() => resolve()));
        await sig.close();
        await manager.close();
        worker?.close();
        http.closeAllConnections();
        await httpClosed;
        await backends.store.close();
        await backends.router.close();
        log.info('closed');
      })();
      return closing;
    },
  };
}

/** Listen dual-stack on `::` (both ::1 and 127.0.0.1 answer), falling back to 0.0.0.0 without IPv6. */
function listen(server: Server, port: number, host: string | undefined): Promise<number> {
  const attempt = (h: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        server.off('listening', onListening);
        reject(err);
      };
      const onListening = (): void => {
        server.off('error', onError);
        resolve((server.address() as AddressInfo).port);
      };
      server.once('error', onError);
      server.once('listening', onListening);
      server.listen({ port, host: h, ipv6Only: false });
    });
  if (host !== undefined) return attempt(host);
  return attempt('::').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EAFNOSUPPORT' || err.code === 'EADDRNOTAVAIL' || err.code === 'EINVAL') return attempt('0.0.0.0');
    throw err;
  });
}
