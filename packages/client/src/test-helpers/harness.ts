import { startServer, type ConveneServer, type ServerOptions } from '@convene/server';
import { createToken, type CreateTokenOptions } from '@convene/server-sdk';
import type { ConveneEvent } from '../ConveneEvent.js';
import { initSession, type Session, type SessionOptions } from '../index.js';

export const API_KEY = 'test_key';
export const API_SECRET = 'test_secret_0123456789abcdef';

/** A real server on port 0 plus helpers to mint tokens and open sessions; `close()` tears everything down. */
export interface Harness {
  server: ConveneServer;
  url: string;
  token(sessionId: string, opts?: Partial<CreateTokenOptions>): Promise<string>;
  /** initSession against this server (or `serverUrl`), tracked for cleanup. */
  session(sessionId: string, opts?: SessionOptions): Session;
  /** initSession + connect. */
  join(sessionId: string, tokenOpts?: Partial<CreateTokenOptions>, opts?: SessionOptions): Promise<Session>;
  close(): Promise<void>;
}

export async function startHarness(options: ServerOptions = {}): Promise<Harness> {
  const server = await startServer({ port: 0, apiKey: API_KEY, apiSecret: API_SECRET, logLevel: 'silent', ...options });
  const sessions: Session[] = [];
  const h: Harness = {
    server,
    url: server.url,
    token: (sessionId, opts = {}) => createToken({ apiKey: API_KEY, apiSecret: API_SECRET, sessionId, role: 'publisher', ...opts }),
    session: (sessionId, opts = {}) => {
      const s = initSession(API_KEY, sessionId, { serverUrl: server.url, ...opts });
      sessions.push(s);
      return s;
    },
    join: async (sessionId, tokenOpts, opts) => {
      const s = h.session(sessionId, opts);
      await s.connect(await h.token(sessionId, tokenOpts));
      return s;
    },
    close: async () => {
      await Promise.all(sessions.map((s) => (s.connectionState === 'disconnected' ? undefined : s.disconnect())));
      await server.close();
    },
  };
  return h;
}

/** Resolve with the next `type` event of a dispatcher (optionally one matching `pred`); reject after `timeoutMs`. */
export function nextEvent<T extends ConveneEvent = ConveneEvent>(
  target: { once(type: string, h: (e: never) => void): unknown; off(type: string, h: (e: never) => void): unknown; on(type: string, h: (e: never) => void): unknown },
  type: string,
  pred: (e: T) => boolean = () => true,
  timeoutMs = 5000,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const handler = (e: T): void => {
      if (!pred(e)) return;
      clearTimeout(timer);
      target.off(type, handler as (e: never) => void);
      resolve(e);
    };
    const timer = setTimeout(() => {
      target.off(type, handler as (e: never) => void);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${type}`));
    }, timeoutMs);
    target.on(type, handler as (e: never) => void);
  });
}

/** Record every event of the given types, in order. */
export function record<T extends ConveneEvent = ConveneEvent>(
  target: { on(type: string, h: (e: never) => void): unknown },
  types: string,
): T[] {
  const out: T[] = [];
  target.on(types, ((e: T) => out.push(e)) as (e: never) => void);
  return out;
}

/** Wait until `cond()` holds, polling; reject after `timeoutMs`. For state that has no event. */
export async function until(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
