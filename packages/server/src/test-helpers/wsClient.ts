// A raw WebSocket client speaking the Convene signaling protocol, for server tests.
import { SIGNALING_PATH, type Role } from '@convene/protocol';
import { WebSocket } from 'ws';
import { signHs256 } from '../service/jwt.js';
import { startServer, type ConveneServer, type ServerOptions } from '../service/startServer.js';

export const API_KEY = 'test_key';
export const API_SECRET = 'test_secret_0123456789';

/** Any frame from the server. */
export type Frame = Record<string, unknown> & { type: string; q?: number; id?: number };

export function startTestServer(extra: ServerOptions = {}): Promise<ConveneServer> {
  return startServer({ port: 0, apiKey: API_KEY, apiSecret: API_SECRET, logLevel: 'silent', ...extra });
}

/** Sign a client token; `claims` override the defaults. */
export function token(sessionId: string, claims: Record<string, unknown> = {}, secret = API_SECRET): string {
  const now = Math.floor(Date.now() / 1000);
  return signHs256({ iss: API_KEY, tpc: sessionId, role: 'publisher', iat: now, exp: now + 3600, ...claims }, secret);
}

export function wsUrl(server: ConveneServer): string {
  return server.url.replace(/^http/, 'ws') + SIGNALING_PATH;
}

interface Waiter {
  pred: (f: Frame) => boolean;
  resolve: (f: Frame) => void;
}

/** One raw signaling socket with an inbox. */
export class TestClient {
  readonly ws: WebSocket;
  readonly inbox: Frame[] = [];
  /** Frames not yet taken by next()/waitFor(). */
  #unread: Frame[] = [];
  #waiters: Waiter[] = [];
  #nextId = 1;
  lastSeq = 0;
  closed: Promise<{ code: number; reason: string }>;
  isClosed = false;
  hello!: Frame;
  connectionId = '';
  resumeToken = '';

  private constructor(ws: WebSocket) {
    this.ws = ws;
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => {
        this.isClosed = true;
        resolve({ code, reason: reason.toString() });
      }),
    );
    ws.on('error', () => {});
    ws.on('message', (data) => {
      const f = JSON.parse(data.toString()) as Frame;
      if (typeof f.q === 'number') {
        if (f.q !== this.lastSeq + 1) throw new Error(`sequence gap: got q=${f.q} after ${this.lastSeq}`);
        this.lastSeq = f.q;
      }
      this.inbox.push(f);
      const i = this.#waiters.findIndex((w) => w.pred(f));
      if (i >= 0) {
        const [w] = this.#waiters.splice(i, 1);
        w?.resolve(f);
      } else this.#unread.push(f);
    });
  }

  /** Open a socket and wait for `hello`. */
  static async open(server: ConveneServer): Promise<TestClient> {
    const ws = new WebSocket(wsUrl(server));
    const c = new TestClient(ws);
    c.hello = await c.waitFor((f) => f.type === 'hello');
    return c;
  }

  /** Wait for the first unread frame matching `pred`. */
  waitFor(pred: (f: Frame) => boolean, timeoutMs = 5000): Promise<Frame> {
    const i = this.#unread.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.#unread.splice(i, 1)[0] as Frame);
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        pred,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        reject(new Error(`timed out waiting for a frame; unread: ${JSON.stringify(this.#unread).slice(0, 500)}`));
      }, timeoutMs);
      this.#waiters.push(w);
    });
  }

  /** Wait for the next unread frame of a type. */
  next(type: string, timeoutMs = 5000): Promise<Frame> {
    return this.waitFor((f) => f.type === type, timeoutMs);
  }

  /** Unread frames of a type right now (does not consume). */
  unread(type?: string): Frame[] {
    return this.#unread.filter((f) => type === undefined || f.type === type);
  }

  /** Resolve if no unread frame of `type` arrives within `ms` (for "nothing happens" checks after a round trip). */
  async expectNone(type: string): Promise<void> {
    await this.roundTrip();
    const got = this.unread(type);
    if (got.length > 0) throw new Error(`unexpected ${type}: ${JSON.stringify(got).slice(0, 300)}`);
  }

  /** A ping round trip: every frame the server sent before the pong has arrived. */
  async roundTrip(): Promise<void> {
    this.sendRaw(JSON.stringify({ v: 1, type: 'ping' }));
    await this.next('pong');
  }

  sendRaw(data: string | Buffer): void {
    this.ws.send(data);
  }

  send(msg: Record<string, unknown>): void {
    this.ws.send(JSON.stringify({ v: 1, ...msg }));
  }

  /** Send a request with a fresh id and wait for its response (ok or error). */
  async request(type: string, fields: Record<string, unknown> = {}, id = this.#nextId++): Promise<Frame> {
    if (id >= this.#nextId) this.#nextId = id + 1;
    this.send({ type, id, ...fields });
    return this.waitFor((f) => (f.type === 'ok' || f.type === 'error') && f.id === id);
  }

  /** Skip ids (after a resume, so ids keep increasing). */
  set nextId(n: number) {
    this.#nextId = n;
  }

  get nextId(): number {
    return this.#nextId;
  }

  ack(seq = this.lastSeq): void {
    this.send({ type: 'ack', seq });
  }

  /** Wait for the socket to close. */
  async closeAndWait(): Promise<void> {
    if (!this.isClosed) this.ws.close();
    await this.closed;
  }
}

export interface JoinOptions {
  role?: Role;
  claims?: Record<string, unknown>;
  userName?: string;
  passcode?: string;
  idleTimeoutMins?: number;
}

/** Open a socket and connect to a session; throws if connect fails. */
export async function join(server: ConveneServer, sessionId: string, opts: JoinOptions = {}): Promise<{ c: TestClient; result: Record<string, unknown> & { connection: Record<string, unknown>; capabilities: Record<string, unknown>; connections: Record<string, unknown>[]; session: Record<string, unknown> } }> {
  const c = await TestClient.open(server);
  const r = await c.request('connect', {
    sessionId,
    token: token(sessionId, { role: opts.role ?? 'publisher', ...opts.claims }),
    userName: opts.userName,
    passcode: opts.passcode,
    idleTimeoutMins: opts.idleTimeoutMins,
  });
  if (r.type !== 'ok') throw new Error(`connect failed: ${JSON.stringify(r.error)}`);
  const result = r.result as Awaited<ReturnType<typeof join>>['result'];
  c.connectionId = result.connection.connectionId as string;
  c.resumeToken = result.resumeToken as string;
  return { c, result };
}

/** Close every client, then the server. */
export async function cleanup(server: ConveneServer | undefined, clients: TestClient[]): Promise<void> {
  await Promise.all(clients.map((c) => c.closeAndWait()));
  clients.length = 0;
  await server?.close();
}
