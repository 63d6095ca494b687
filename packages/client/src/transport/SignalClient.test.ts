import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ServerEvent } from '@convene/protocol';
import { SignalClient } from './SignalClient.js';

/*
 * Transport-level contract tests against a scripted WebSocket peer: they cover
 * server behaviours the real server does not produce on demand (duplicated
 * frames, a resume answer ahead of its replay, refused resumes). The
 * end-to-end behaviour is covered against the real server in session/.
 */

type Msg = Record<string, unknown> & { type: string; id?: number };

class ScriptedServer {
  readonly wss: WebSocketServer;
  readonly sockets: WebSocket[] = [];
  readonly received: Msg[] = [];
  #waiters: { pred: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];
  #connWaiters: ((ws: WebSocket) => void)[] = [];

  constructor() {
    this.wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    this.wss.on('connection', (ws) => {
      this.sockets.push(ws);
      this.#connWaiters.shift()?.(ws);
      ws.on('message', (data) => {
        const m = JSON.parse(String(data)) as Msg;
        this.received.push(m);
        const i = this.#waiters.findIndex((w) => w.pred(m));
        if (i >= 0) this.#waiters.splice(i, 1)[0]?.resolve(m);
      });
    });
  }

  static async start(): Promise<ScriptedServer> {
    const s = new ScriptedServer();
    if (s.wss.address() === null) await new Promise<void>((r) => s.wss.once('listening', () => r()));
    return s;
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}/v1/ws`;
  }

  next(pred: (m: Msg) => boolean, timeoutMs = 3000): Promise<Msg> {
    const already = this.received.find(pred);
    if (already) {
      this.received.splice(this.received.indexOf(already), 1);
      return Promise.resolve(already);
    }
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no such message')), timeoutMs);
      this.#waiters.push({
        pred,
        resolve: (m) => {
          clearTimeout(t);
          this.received.splice(this.received.indexOf(m), 1);
          resolve(m);
        },
      });
    });
  }

  nextSocket(): Promise<WebSocket> {
    return new Promise((resolve) => this.#connWaiters.push(resolve));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.terminate();
    await new Promise<void>((r) => this.wss.close(() => r()));
  }
}

const send = (ws: WebSocket, m: object): void => ws.send(JSON.stringify({ v: 1, ...m }));

const joined = (q: number, id: number, overrides: object = {}): object => ({
  q,
  type: 'ok',
  id,
  result: {
    connection: { connectionId: 'me', creationTime: 1, data: '', userName: 'me', userIdentity: '', role: 'publisher', isHost: false, isManager: false },
    connections: [],
    session: { sessionId: 's', hostId: null, shareLocked: false, forceMuteActive: false, hasPasscode: false, createdAt: 1 },
    capabilities: {},
    resumeToken: 'rt',
    heartbeatIntervalMs: 100,
    heartbeatTimeoutMs: 400,
    resumeWindowMs: 2000,
    ...overrides,
  },
});

const signal = (q: number, data: string): object => ({ q, type: 'signal', from: 'x', signalType: 't', data });

let server: ScriptedServer;
let client: SignalClient;

afterEach(async () => {
  client?.close();
  await server?.close();
});

/** Connect a client to a fresh scripted server; returns the server-side socket. */
async function connected(): Promise<{ ws: WebSocket; events: ServerEvent[] }> {
  server = await ScriptedServer.start();
  client = new SignalClient({ url: server.url, reconnectRetryMs: 100, ackDelayMs: 20 });
  const events: ServerEvent[] = [];
  client.on('event', (e) => events.push(e));
  const sock = server.nextSocket();
  const done = client.connect({ sessionId: 's', token: 't' });
  const ws = await sock;
  const req = await server.next((m) => m.type === 'connect');
  send(ws, joined(1, req.id!));
  await done;
  return { ws, events };
}

const until = async (cond: () => boolean, ms = 3000): Promise<void> => {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('SignalClient', () => {
  it('drops frames whose q it has already processed', async () => {
    const { ws, events } = await connected();
    send(ws, signal(2, 'a'));
    send(ws, signal(2, 'a-again'));
    send(ws, signal(1, 'old'));
    send(ws, signal(3, 'b'));
    await until(() => client.lastSeq === 3);
    expect(events.map((e) => (e as { data: string }).data)).toEqual(['a', 'b']);
  });

  it('acknowledges processed frames with an ack and in pings', async () => {
    const { ws } = await connected();
    send(ws, signal(2, 'a'));
    const ack = await server.next((m) => m.type === 'ack');
    expect(ack.seq).toBe(2);
    const ping = await server.next((m) => m.type === 'ping');
    expect(ping.ack).toBe(2);
  });

  it('resumes with its last processed q, resends only unprocessed requests with fresh larger ids, and handles a resume answer ahead of its replay', async () => {
    const { ws, events } = await connected();
    send(ws, signal(2, 'a'));
    await until(() => client.lastSeq === 2);
    const r1 = client.request({ type: 'signal', data: 'one' });
    const r2 = client.request({ type: 'signal', data: 'two' });
    const m1 = await server.next((m) => m.type === 'signal' && m.data === 'one');
    const m2 = await server.next((m) => m.type === 'signal' && m.data === 'two');
    expect(m2.id!).toBeGreaterThan(m1.id!);
    const reconnecting = new Promise<void>((r) => client.once('reconnecting', r));
    const next = server.nextSocket();
    ws.terminate();
    await reconnecting;
    const ws2 = await next;
    const resume = await server.next((m) => m.type === 'resume');
    expect(resume).toMatchObject({ connectionId: 'me', resumeToken: 'rt', lastSeq: 2 });
    expect(resume.id!).toBeGreaterThan(m2.id!);
    // The server had processed `one` (its answer is q=3) but not `two`; it answers the resume first.
    send(ws2, { q: 5, type: 'ok', id: resume.id, result: { lastRequestId: m1.id, capabilities: {} } });
    send(ws2, { q: 3, type: 'ok', id: m1.id });
    send(ws2, signal(4, 'missed'));
    const resent = await server.next((m) => m.type === 'signal');
    expect(resent.data).toBe('two');
    expect(resent.id!).toBeGreaterThan(resume.id!);
    send(ws2, { q: 6, type: 'ok', id: resent.id });
    await expect(r1).resolves.toBeUndefined();
    await expect(r2).resolves.toBeUndefined();
    send(ws2, signal(7, 'after'));
    await until(() => client.lastSeq === 7);
    expect(events.map((e) => (e as { data: string }).data)).toEqual(['a', 'missed', 'after']);
    // `one` was not sent twice.
    expect(server.received.filter((m) => m.type === 'signal')).toEqual([]);
  });

  it('queues requests while reconnecting, or fails them at once with queueWhileReconnecting: false', async () => {
    const { ws } = await connected();
    const reconnecting = new Promise<void>((r) => client.once('reconnecting', r));
    const next = server.nextSocket();
    ws.terminate();
    await reconnecting;
    await expect(client.request({ type: 'signal', data: 'no' }, { queueWhileReconnecting: false })).rejects.toMatchObject({ name: 'OT_NOT_CONNECTED' });
    const queued = client.request({ type: 'signal', data: 'yes' });
    const ws2 = await next;
    const resume = await server.next((m) => m.type === 'resume');
    send(ws2, { q: 2, type: 'ok', id: resume.id, result: { lastRequestId: 1, capabilities: {} } });
    const sent = await server.next((m) => m.type === 'signal');
    expect(sent.data).toBe('yes');
    send(ws2, { q: 3, type: 'ok', id: sent.id });
    await expect(queued).resolves.toBeUndefined();
  });

  it('gives up with closed networkDisconnected when the server refuses the resume', async () => {
    const { ws } = await connected();
    const closed = new Promise<{ reason: string }>((r) => client.once('closed', r));
    const next = server.nextSocket();
    ws.terminate();
    const ws2 = await next;
    const resume = await server.next((m) => m.type === 'resume');
    send(ws2, { type: 'error', id: resume.id, error: { name: 'OT_RESUME_FAILED', code: 4002, message: 'expired' } });
    expect((await closed).reason).toBe('networkDisconnected');
    expect(client.state).toBe('closed');
  });

  it('does not resume after close code 4002', async () => {
    const { ws } = await connected();
    const closed = new Promise<{ reason: string }>((r) => client.once('closed', r));
    ws.close(4002, 'terminated');
    expect((await closed).reason).toBe('networkDisconnected');
    expect(server.sockets).toHaveLength(1);
  });

  it('ends with the reason of a disconnected frame without resuming', async () => {
    const { ws } = await connected();
    const closed = new Promise<{ reason: string }>((r) => client.once('closed', r));
    send(ws, { q: 2, type: 'disconnected', reason: 'forceDisconnected' });
    expect((await closed).reason).toBe('forceDisconnected');
  });

  it('detects a silent peer by heartbeat timeout and reconnects', async () => {
    const { ws } = await connected();
    // Stop answering pings: the peer goes silent without closing.
    ws.removeAllListeners('message');
    ws.pause();
    const t0 = Date.now();
    await new Promise<void>((r) => client.once('reconnecting', r));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(350);
  });

  it('fails connect() with OT_CONNECT_FAILED when the server never answers', async () => {
    server = await ScriptedServer.start();
    client = new SignalClient({ url: server.url, connectTimeoutMs: 200 });
    await expect(client.connect({ sessionId: 's', token: 't' })).rejects.toMatchObject({ name: 'OT_CONNECT_FAILED' });
    expect(client.state).toBe('idle');
  });
});
