import { SIGNALING_PATH } from '@convene/protocol';

/** The part of the WebSocket API the transport uses (browser WebSocket and `ws` both fit). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  /** `ws` only: drop the TCP connection without a closing handshake. */
  terminate?(): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

/** Creates a socket for a ws(s) URL (already connecting). */
export type SocketFactory = (url: string) => Promise<SocketLike>;

export const OPEN = 1;

type WebSocketCtor = new (url: string) => SocketLike;

const isNode = (): boolean =>
  typeof globalThis.process !== 'undefined' && typeof (globalThis.process as { versions?: { node?: string } }).versions?.node === 'string';

let nodeCtor: Promise<WebSocketCtor> | undefined;

/**
 * The default factory: the `ws` package in Node (loaded on first use through a
 * dynamic import whose specifier bundlers cannot follow, so a browser bundle
 * never contains it), the native WebSocket elsewhere.
 */
export const defaultSocketFactory: SocketFactory = async (url) => {
  if (isNode()) {
    nodeCtor ??= (async () => {
      const specifier = 'ws';
      const mod = (await import(/* @vite-ignore */ specifier)) as { WebSocket?: WebSocketCtor; default?: WebSocketCtor };
      const ctor = mod.WebSocket ?? mod.default;
      if (!ctor) throw new Error('The ws package did not export a WebSocket class');
      return ctor;
    })();
    const Ctor = await nodeCtor;
    return new Ctor(url);
  }
  const Native = (globalThis as { WebSocket?: WebSocketCtor }).WebSocket;
  if (!Native) throw new Error('No WebSocket implementation available');
  return new Native(url);
};

/** Derive the signaling WebSocket URL from an http(s) server URL (ws(s) URLs are accepted as they are). */
export function signalingUrl(serverUrl: string): string {
  let u: URL;
  try {
    u = new URL(serverUrl);
  } catch {
    throw new TypeError(`serverUrl is not a valid URL: ${JSON.stringify(serverUrl)}`);
  }
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  else if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new TypeError(`serverUrl must be http(s): ${serverUrl}`);
  // Keep a path prefix (a server behind a reverse proxy at /video), then the signaling path.
  const prefix = u.pathname.replace(/\/+$/, '');
  u.pathname = prefix.endsWith(SIGNALING_PATH) ? prefix : prefix + SIGNALING_PATH;
  u.search = '';
  u.hash = '';
  return u.toString();
}

const noop = (): void => {};

/** Detach our handlers and drop the socket at once (no waiting for a closing handshake). */
export function killSocket(s: SocketLike, code = 1000, reason = ''): void {
  s.onopen = null;
  s.onmessage = null;
  s.onclose = null;
  // Keep an error handler: `ws` throws on an 'error' event nobody listens to.
  s.onerror = noop;
  try {
    if (s.terminate) s.terminate();
    else s.close(code, reason);
  } catch {
    // already closed
  }
}

/** Open a socket and wait until it is open; rejects on error, close or timeout. */
export async function openSocket(factory: SocketFactory, url: string, timeoutMs: number): Promise<SocketLike> {
  const s = await factory(url);
  return new Promise<SocketLike>((resolve, reject) => {
    const timer = setTimeout(() => {
      killSocket(s);
      reject(new Error(`WebSocket did not open within ${timeoutMs} ms`));
    }, timeoutMs);
    s.onopen = () => {
      clearTimeout(timer);
      s.onopen = null;
      s.onclose = null;
      s.onerror = noop;
      resolve(s);
    };
    s.onerror = noop;
    s.onclose = (ev) => {
      clearTimeout(timer);
      killSocket(s);
      reject(new Error(`WebSocket closed before opening (code ${ev.code})`));
    };
  });
}
