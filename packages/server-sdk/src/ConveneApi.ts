import {
  ErrorName,
  normalizeSessionName,
  REST_BASE,
  type ConnectionInfo,
  type CreateSessionBody,
  type CreateSessionResponse,
  type ListConnectionsResponse,
  type ListSessionsResponse,
  type SessionSummary,
  type SignalBody,
} from '@convene/protocol';
import { ConveneApiError } from './ConveneApiError.js';
import { createProjectToken } from './createToken.js';

/** Options of {@link ConveneApi}. */
export interface ConveneApiOptions {
  /** Base URL of the server, `http(s)://host[:port][/prefix]`; a trailing slash is fine. */
  serverUrl: string;
  apiKey: string;
  apiSecret: string;
  /** Per-request timeout in ms (default 10 000). */
  timeoutMs?: number;
  /**
   * `bearer` (default): a fresh project JWT per request, so the secret never leaves this process.
   * `basic`: `Authorization: Basic base64(apiKey:apiSecret)`, for setups that cannot sign JWTs.
   */
  auth?: 'bearer' | 'basic';
}

/** Lifetime of the project token minted for each request: short, so a leaked header is soon useless. */
const REQUEST_TOKEN_TTL_SECONDS = 60;
/** Longest piece of a non-JSON error body quoted in an error message. */
const BODY_EXCERPT_CHARS = 200;

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * Typed client of the Convene REST API: list sessions and connections, send
 * signals from the server, force-disconnect a connection, end a session.
 * Every method rejects with {@link ConveneApiError} when the call fails.
 *
 * @example
 * ```ts
 * import { ConveneApi } from '@convene/server-sdk';
 * const api = new ConveneApi({ serverUrl: 'https://video.example.com', apiKey, apiSecret });
 * for (const s of await api.listSessions()) console.log(s.sessionId, s.connectionCount);
 * await api.signal('Weekly sync', { type: 'notice', data: 'Recording starts in 1 minute' });
 * ```
 */
export class ConveneApi {
  readonly #base: string;
  readonly #apiKey: string;
  readonly #apiSecret: string;
  readonly #timeoutMs: number;
  readonly #auth: 'bearer' | 'basic';

  constructor(options: ConveneApiOptions) {
    if (!isObject(options)) throw new TypeError('ConveneApi needs { serverUrl, apiKey, apiSecret }');
    const { serverUrl, apiKey, apiSecret, timeoutMs = 10_000, auth = 'bearer' } = options;
    if (typeof serverUrl !== 'string') throw new TypeError('serverUrl must be an http(s) URL string');
    let url: URL;
    try {
      url = new URL(serverUrl);
    } catch {
      throw new TypeError(`serverUrl is not a valid URL: ${JSON.stringify(serverUrl)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new TypeError(`serverUrl must use http or https, got ${url.protocol.replace(/:$/, '')} (${serverUrl})`);
    if (url.search || url.hash) throw new TypeError('serverUrl must not contain a query or fragment');
    if (typeof apiKey !== 'string' || apiKey.length === 0) throw new TypeError('apiKey must be a non-empty string');
    if (typeof apiSecret !== 'string' || apiSecret.length === 0) throw new TypeError('apiSecret must be a non-empty string');
    if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0)
      throw new TypeError('timeoutMs must be a positive number of milliseconds');
    if (auth !== 'bearer' && auth !== 'basic') throw new TypeError("auth must be 'bearer' or 'basic'");
    this.#base = `${url.origin}${url.pathname.replace(/\/+$/, '')}${REST_BASE}`;
    this.#apiKey = apiKey;
    this.#apiSecret = apiSecret;
    this.#timeoutMs = timeoutMs;
    this.#auth = auth;
  }

  /**
   * Create a session ahead of its first join: `mediaMode` `'routed'` (default, through the SFU) or
   * `'relayed'` (peer to peer); `name` picks the session id, else the server generates one.
   * Rejects with 409 when a live session of that name has the other mode.
   */
  async createSession(options: CreateSessionBody = {}): Promise<CreateSessionResponse> {
    if (typeof options !== 'object' || options === null) throw new TypeError('createSession options must be an object { name?, mediaMode? }');
    const name: unknown = options.name;
    const mediaMode: unknown = options.mediaMode;
    if (mediaMode !== undefined && mediaMode !== 'routed' && mediaMode !== 'relayed')
      throw new TypeError(`mediaMode must be 'routed' or 'relayed', got ${JSON.stringify(mediaMode)}`);
    if (name !== undefined) {
      const n = normalizeSessionName(name);
      if (!n.ok) throw new TypeError(`name: ${n.message}`);
    }
    const body: CreateSessionBody = {};
    if (typeof name === 'string') body.name = name;
    if (mediaMode !== undefined) body.mediaMode = mediaMode;
    const res = await this.#request<CreateSessionResponse>('POST', '/sessions', body);
    if (!isObject(res) || typeof res.sessionId !== 'string' || (res.mediaMode !== 'routed' && res.mediaMode !== 'relayed'))
      throw this.#unexpected('POST', '/sessions', 'no sessionId/mediaMode');
    return { sessionId: res.sessionId, mediaMode: res.mediaMode };
  }

  /** Every live session on the server. */
  async listSessions(): Promise<SessionSummary[]> {
    const body = await this.#request<ListSessionsResponse>('GET', '/sessions');
    if (!isObject(body) || !Array.isArray(body.sessions)) throw this.#unexpected('GET', '/sessions', 'no sessions array');
    return body.sessions;
  }

  /** The connections currently in a session (404 `OT_NOT_FOUND` if it does not exist). */
  async listConnections(sessionId: string): Promise<ConnectionInfo[]> {
    const path = `/sessions/${sessionSegment(sessionId)}/connections`;
    const body = await this.#request<ListConnectionsResponse>('GET', path);
    if (!isObject(body) || !Array.isArray(body.connections)) throw this.#unexpected('GET', path, 'no connections array');
    return body.connections;
  }

  /**
   * Send a signal to everyone in a session; clients receive it with `from` null.
   * The server validates type and data (400 invalid, 413 too large, 404 no such session).
   */
  async signal(sessionId: string, signal: SignalBody = {}): Promise<void> {
    await this.#request('POST', `/sessions/${sessionSegment(sessionId)}/signal`, signalBody(signal));
  }

  /** Send a signal to one connection (404 if the session or connection does not exist). */
  async signalConnection(sessionId: string, connectionId: string, signal: SignalBody = {}): Promise<void> {
    const path = `/sessions/${sessionSegment(sessionId)}/connections/${connectionSegment(connectionId)}/signal`;
    await this.#request('POST', path, signalBody(signal));
  }

  /** Remove a connection from a session; everyone sees the reason `forceDisconnected`. */
  async forceDisconnect(sessionId: string, connectionId: string): Promise<void> {
    await this.#request('DELETE', `/sessions/${sessionSegment(sessionId)}/connections/${connectionSegment(connectionId)}`);
  }

  /** End a session for everyone; connections are closed with the reason `sessionEnded`. */
  async endSession(sessionId: string): Promise<void> {
    await this.#request('DELETE', `/sessions/${sessionSegment(sessionId)}`);
  }

  async #authorization(): Promise<string> {
    if (this.#auth === 'basic') return `Basic ${Buffer.from(`${this.#apiKey}:${this.#apiSecret}`).toString('base64')}`;
    const jwt = await createProjectToken({ apiKey: this.#apiKey, apiSecret: this.#apiSecret, ttlSeconds: REQUEST_TOKEN_TTL_SECONDS });
    return `Bearer ${jwt}`;
  }

  #unexpected(method: string, path: string, why: string, status = 200): ConveneApiError {
    const request = `${method} ${this.#base}${path}`;
    return new ConveneApiError({
      status,
      name: ErrorName.UnexpectedServerResponse,
      code: status,
      message: `${request}: unexpected response from the server (${why})`,
      request,
    });
  }

  async #request<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: object): Promise<T | undefined> {
    const url = `${this.#base}${path}`;
    const request = `${method} ${url}`;
    const headers: Record<string, string> = { authorization: await this.#authorization(), accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const signal = AbortSignal.timeout(this.#timeoutMs);
    const onFailure = (err: unknown): never => {
      if (signal.aborted) throw ConveneApiError.timeout(request, this.#timeoutMs, err);
      throw ConveneApiError.network(request, err);
    };

    let res: Response;
    let text: string;
    try {
      res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
      text = await res.text();
    } catch (err) {
      return onFailure(err);
    }

    let json: unknown;
    let parsed = false;
    if (text.length > 0) {
      try {
        json = JSON.parse(text);
        parsed = true;
      } catch {
        // Not JSON: reported below with an excerpt of the body.
      }
    }
    if (!res.ok) {
      const wire = parsed && isObject(json) && isObject(json.error) ? json.error : undefined;
      if (wire && typeof wire.name === 'string' && typeof wire.message === 'string') {
        throw new ConveneApiError({
          status: res.status,
          name: wire.name,
          code: typeof wire.code === 'number' ? wire.code : res.status,
          message: wire.message,
          request,
        });
      }
      const excerpt = text.length > BODY_EXCERPT_CHARS ? `${text.slice(0, BODY_EXCERPT_CHARS)}…` : text;
      throw this.#unexpected(method, path, `HTTP ${res.status} ${res.statusText}${excerpt ? `: ${excerpt}` : ''}`, res.status);
    }
    if (text.length === 0) return undefined;
    if (!parsed) throw this.#unexpected(method, path, `HTTP ${res.status} with a body that is not JSON`, res.status);
    return json as T;
  }
}

/** The same client under the name other SDKs use. */
export { ConveneApi as RestClient };

/** Path segment of a session name: validated, then percent-encoded (names may hold spaces, `/`, `?`, `#`, `%`). */
function sessionSegment(sessionId: string): string {
  const n = normalizeSessionName(sessionId);
  if (!n.ok) throw new TypeError(`sessionId: ${n.message}`);
  return pathSegment(sessionId, 'sessionId');
}

function connectionSegment(connectionId: string): string {
  if (typeof connectionId !== 'string' || connectionId.length === 0) throw new TypeError('connectionId must be a non-empty string');
  return pathSegment(connectionId, 'connectionId');
}

function pathSegment(value: string, what: string): string {
  // URL parsers collapse `.` and `..` segments (even percent-encoded), so such names cannot be addressed.
  if (value === '.' || value === '..') throw new TypeError(`${what} ${JSON.stringify(value)} cannot be used in a URL path`);
  return encodeURIComponent(value);
}

function signalBody(signal: SignalBody): SignalBody {
  if (!isObject(signal)) throw new TypeError('signal must be an object { type?, data? }');
  if (signal.type !== undefined && typeof signal.type !== 'string') throw new TypeError('signal.type must be a string');
  if (signal.data !== undefined && typeof signal.data !== 'string') throw new TypeError('signal.data must be a string');
  const out: SignalBody = {};
  if (signal.type !== undefined) out.type = signal.type;
  if (signal.data !== undefined) out.data = signal.data;
  return out;
}
