import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { CloseCode, ErrorCode, ErrorName, limits, PROTOCOL_VERSION } from '@convene/protocol';
import { WebSocketServer, type WebSocket } from 'ws';
import type { SessionManager } from '../rtc/SessionManager.js';
import { moduleLogger, type Logger } from '../util/log.js';
import type { IceServer } from '@convene/protocol';
import { ClientSocket, type SocketContext } from './ClientSocket.js';

/** Options of the WebSocket signaling endpoint. */
export interface SignalingOptions {
  manager: SessionManager;
  log: Logger;
  secretFor(apiKey: string): string | undefined;
  serverVersion: string;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  resumeWindowMs: number;
  authTimeoutMs: number;
  rateLimit: { burst: number; perSecond: number };
  onInbound(): void;
  iceServersFor?(connectionId: string): IceServer[];
}

/**
 * The signaling endpoint: accepts WebSocket upgrades, sends `hello`, and runs
 * one sweep timer for auth timeouts and dead (silent) sockets.
 */
export class SignalingServer {
  readonly #wss: WebSocketServer;
  readonly #sockets = new Set<ClientSocket>();
  readonly #ctx: SocketContext;
  readonly #opts: SignalingOptions;
  readonly #log: Logger;
  readonly #hello: string;
  readonly #deadAfterMs: number;
  readonly #sweep: NodeJS.Timeout;

  constructor(opts: SignalingOptions) {
    this.#opts = opts;
    this.#log = moduleLogger(opts.log, 'service.signaling');
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxFrameBytes, perMessageDeflate: false, clientTracking: false });
    this.#ctx = {
      manager: opts.manager,
      log: this.#log,
      secretFor: opts.secretFor,
      heartbeatIntervalMs: opts.heartbeatIntervalMs,
      heartbeatTimeoutMs: opts.heartbeatTimeoutMs,
      resumeWindowMs: opts.resumeWindowMs,
      rateLimit: opts.rateLimit,
      onInbound: opts.onInbound,
      iceServersFor: opts.iceServersFor,
    };
    this.#hello = JSON.stringify({ v: PROTOCOL_VERSION, type: 'hello', serverVersion: opts.serverVersion, maxFrameBytes: limits.maxFrameBytes });
    // A socket silent for two heartbeat timeouts is dead.
    this.#deadAfterMs = 2 * opts.heartbeatTimeoutMs;
    const every = Math.max(10, Math.min(1000, Math.floor(Math.min(this.#deadAfterMs, opts.authTimeoutMs) / 4)));
    this.#sweep = setInterval(() => this.#check(Date.now()), every);
    this.#sweep.unref();
  }

  /** Open signaling sockets. */
  get socketCount(): number {
    return this.#sockets.size;
  }

  /** Handle an HTTP upgrade for the signaling path. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const cs = new ClientSocket(ws, this.#ctx, Date.now());
      this.#sockets.add(cs);
      ws.on('close', () => this.#sockets.delete(cs));
      ws.send(this.#hello);
    });
  }

  #check(now: number): void {
    for (const s of this.#sockets) {
      if (s.state === 'new' || s.state === 'authenticating') {
        if (now - s.openedAt >= this.#opts.authTimeoutMs) {
          s.send(JSON.stringify({ v: 1, type: 'error', error: { name: ErrorName.AuthenticationError, code: ErrorCode.AuthenticationError, message: 'Timed out waiting for connect' } }));
          s.ws.close(CloseCode.AuthFailed, 'authentication timeout');
          s.state = 'closed';
        }
      } else if (s.state === 'open') {
        if (now - s.lastRecv >= this.#deadAfterMs) {
          this.#log.debug({ connectionId: s.member?.participant.connectionId }, 'socket silent: dropping it');
          s.ws.terminate();
        } else s.checkBackpressure();
      }
    }
  }

  /** Close every socket (going away) and stop the sweep. */
  async close(): Promise<void> {
    clearInterval(this.#sweep);
    for (const s of this.#sockets) s.ws.terminate();
    this.#sockets.clear();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }
}
