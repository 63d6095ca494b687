import { SIGNALING_PATH, type JoinedResult, type ServerMessage } from '@convene/protocol';
import WebSocket from 'ws';

/*
 * A bare protocol client on a real WebSocket, for REST integration tests:
 * the server SDK must not depend on the client SDK, so tests speak the wire
 * protocol (packages/protocol/src/messages.ts) directly.
 */

type Frame = ServerMessage;
type FrameOf<T extends Frame['type']> = Extract<Frame, { type: T }>;

interface Waiter {
  match: (f: Frame) => boolean;
  resolve: (f: Frame) => void;
}

export class RawConnection {
  readonly #ws: WebSocket;
  readonly #frames: Frame[] = [];
  readonly #waiters: Waiter[] = [];
  /** Close code and reason, once the socket closes. */
  readonly closed: Promise<{ code: number; reason: string }>;
  #joined: JoinedResult | undefined;
  #nextId = 1;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (raw) => this.#onFrame(JSON.parse(String(raw)) as Frame));
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
  }

  /** Open a socket to `serverUrl` (http form) and join `sessionId` with `token`; resolves once joined. */
  static async join(serverUrl: string, sessionId: string, token: string, timeoutMs = 5000): Promise<RawConnection> {
    const ws = new WebSocket(serverUrl.replace(/^http/, 'ws') + SIGNALING_PATH);
    const c = new RawConnection(ws);
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      }),
      timeoutMs,
      'WebSocket open',
    );
    const id = c.#nextId++;
    c.send({ type: 'connect', id, sessionId, token });
    const res = await c.next((f) => (f.type === 'ok' || f.type === 'error') && f.id === id, timeoutMs);
    if (res.type === 'error') {
      ws.terminate();
      throw new Error(`connect failed: ${res.error.name} ${res.error.message}`);
    }
    c.#joined = (res as FrameOf<'ok'>).result as JoinedResult;
    return c;
  }

  /** The `connect` result. */
  get joined(): JoinedResult {
    if (!this.#joined) throw new Error('not joined');
    return this.#joined;
  }

  get connectionId(): string {
    return this.joined.connection.connectionId;
  }

  /** Send one client frame (`v: 1` is added). */
  send(frame: Record<string, unknown>): void {
    this.#ws.send(JSON.stringify({ v: 1, ...frame }));
  }

  /** The next frame of `type` (optionally also matching `where`), consuming it; frames of other types stay queued. */
  nextOf<T extends Frame['type']>(type: T, where: (f: FrameOf<T>) => boolean = () => true, timeoutMs = 5000): Promise<FrameOf<T>> {
    return this.next((f) => f.type === type && where(f as FrameOf<T>), timeoutMs) as Promise<FrameOf<T>>;
  }

  /** The first queued or future frame matching `match`, consuming it. */
  next(match: (f: Frame) => boolean, timeoutMs = 5000): Promise<Frame> {
    const i = this.#frames.findIndex(match);
    if (i >= 0) return Promise.resolve(this.#frames.splice(i, 1)[0] as Frame);
    let waiter: Waiter | undefined;
    const p = new Promise<Frame>((resolve) => {
      waiter = { match, resolve };
      this.#waiters.push(waiter);
    });
    return withTimeout(p, timeoutMs, 'frame').finally(() => {
      const w = this.#waiters.indexOf(waiter as Waiter);
      if (w >= 0) this.#waiters.splice(w, 1);
    });
  }

  /** Close the socket and wait until it is closed. */
  async close(): Promise<void> {
    if (this.#ws.readyState !== WebSocket.CLOSED) this.#ws.close();
    await withTimeout(this.closed, 5000, 'close').catch(() => this.#ws.terminate());
  }

  #onFrame(f: Frame): void {
    // Acknowledge every sequenced frame so the server can trim its replay buffer.
    if ('q' in f && typeof f.q === 'number') this.send({ type: 'ack', seq: f.q });
    const w = this.#waiters.findIndex((x) => x.match(f));
    if (w >= 0) {
      const [waiter] = this.#waiters.splice(w, 1);
      waiter?.resolve(f);
    } else {
      this.#frames.push(f);
    }
  }
}

/** Reject with a named timeout if `p` has not settled in `ms`. */
function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
