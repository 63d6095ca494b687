import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import {
  ErrorCode,
  ErrorName,
  REST_BASE,
  type CreateSessionResponse,
  type ListConnectionsResponse,
  type ListSessionsResponse,
  type WireError,
} from '@convene/protocol';
import { RtcError } from '../rtc/errors.js';
import type { SessionManager } from '../rtc/SessionManager.js';
import type { Logger } from '../util/log.js';
import { verifyProjectToken } from './tokens.js';
import { SessionModeError, type SessionModes } from './SessionModes.js';

/** Largest REST request body accepted, bytes. */
export const MAX_BODY_BYTES = 16 * 1024;

/** Everything the REST API needs. */
export interface RestContext {
  manager: SessionManager;
  log: Logger;
  apiKey: string;
  apiSecret: string;
  secretFor(apiKey: string): string | undefined;
  /** Media modes of sessions created with POST /v1/sessions. */
  sessionModes?: SessionModes;
}

/** An error with an HTTP status, rendered as `{ error: { name, code, message } }`. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly wire: WireError,
  ) {
    super(wire.message);
  }
}

const unauthorized = (message: string): HttpError => new HttpError(401, { name: ErrorName.AuthenticationError, code: ErrorCode.AuthenticationError, message });
const notFound = (message: string): HttpError => new HttpError(404, { name: ErrorName.NotFound, code: ErrorCode.NotFound, message });
const badRequest = (message: string): HttpError => new HttpError(400, { name: ErrorName.BadRequest, code: ErrorCode.BadRequest, message });

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function authenticate(req: IncomingMessage, ctx: RestContext): void {
  const h = req.headers.authorization;
  if (!h) throw unauthorized('Missing Authorization header (Bearer <project JWT> or Basic <key:secret>)');
  const space = h.indexOf(' ');
  const scheme = (space < 0 ? h : h.slice(0, space)).toLowerCase();
  const value = space < 0 ? '' : h.slice(space + 1).trim();
  if (scheme === 'bearer') {
    const err = verifyProjectToken(value, ctx.secretFor);
    if (err) throw unauthorized(err);
    return;
  }
  if (scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw unauthorized('Malformed Basic credentials');
    const key = decoded.slice(0, colon);
    const secret = decoded.slice(colon + 1);
    // Compare both even when the key is wrong, so timing does not tell which failed.
    const keyOk = safeEqual(key, ctx.apiKey);
    const secretOk = safeEqual(secret, ctx.apiSecret);
    if (!keyOk || !secretOk) throw unauthorized('Invalid API key or secret');
    return;
  }
  throw unauthorized(`Unsupported authorization scheme ${JSON.stringify(scheme.slice(0, 16))}`);
}

function tooLarge(): HttpError {
  return new HttpError(413, { name: ErrorName.TooLarge, code: ErrorCode.TooLarge, message: `Request body exceeds ${MAX_BODY_BYTES} bytes` });
}

/** Read a JSON object body of at most MAX_BODY_BYTES (413 beyond, without reading the rest). */
function readJson(req: IncomingMessage, res: ServerResponse): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const fail = (e: HttpError): void => {
      res.setHeader('connection', 'close');
      req.removeAllListeners('data');
      req.resume();
      reject(e);
    };
    if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) return fail(tooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        done = true;
        fail(tooLarge());
      } else chunks.push(chunk);
    });
    req.on('error', (err) => {
      if (!done) {
        done = true;
        reject(err);
      }
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      if (size === 0) return resolve({});
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return reject(badRequest('Request body is not valid JSON'));
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) return reject(badRequest('Request body must be a JSON object'));
      resolve(body as Record<string, unknown>);
    });
  });
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw badRequest('Malformed percent-encoding in the path');
  }
}

/**
 * Handle a REST request under /v1. Returns false if the path is not a REST
 * route (the caller answers 404 itself).
 *
 * Routes (rest.ts in @convene/protocol; docs/openapi.yaml):
 *   GET    /v1/sessions
 *   POST   /v1/sessions
 *   GET    /v1/sessions/{sessionId}/connections
 *   POST   /v1/sessions/{sessionId}/signal
 *   POST   /v1/sessions/{sessionId}/connections/{connectionId}/signal
 *   DELETE /v1/sessions/{sessionId}/connections/{connectionId}
 *   DELETE /v1/sessions/{sessionId}
 */
export async function handleRest(req: IncomingMessage, res: ServerResponse, path: string, ctx: RestContext): Promise<boolean> {
  if (path !== REST_BASE + '/sessions' && !path.startsWith(REST_BASE + '/sessions/')) return false;
  const segs = path.slice(REST_BASE.length + 1).split('/');
  // segs[0] === 'sessions'
  const method = req.method ?? 'GET';
  const allow = (methods: string[]): void => {
    if (!methods.includes(method)) {
      res.setHeader('allow', methods.join(', '));
      throw new HttpError(405, { name: ErrorName.BadRequest, code: 405, message: `Method ${method} not allowed here` });
    }
  };
  try {
    authenticate(req, ctx);
    const m = ctx.manager;
    const session = (): NonNullable<ReturnType<SessionManager['get']>> => {
      const s = m.get(decodeSegment(segs[1] as string));
      if (!s) throw notFound('No such session');
      return s;
    };
    if (segs.length === 1 && method === 'POST' && ctx.sessionModes) {
      const body = await readJson(req, res);
      const created = createSession(body, ctx.sessionModes, (id) => m.get(id) !== undefined);
      sendJson(res, 200, created);
    } else if (segs.length === 1) {
      allow(ctx.sessionModes ? ['GET', 'POST'] : ['GET']);
      const body: ListSessionsResponse = { sessions: m.sessions().map((s) => s.summary) };
      sendJson(res, 200, body);
    } else if (segs.length === 2 && segs[1] !== '') {
      allow(['DELETE']);
      session().end('sessionEnded');
      res.writeHead(204).end();
    } else if (segs.length === 3 && segs[2] === 'connections') {
      allow(['GET']);
      const s = session();
      const body: ListConnectionsResponse = { sessionId: s.id, connections: s.connections() };
      sendJson(res, 200, body);
    } else if (segs.length === 3 && segs[2] === 'signal') {
      allow(['POST']);
      const body = await readJson(req, res);
      session().signal(null, undefined, body.type as string | undefined, body.data as string | undefined);
      res.writeHead(204).end();
    } else if (segs.length === 4 && segs[2] === 'connections' && segs[3] !== '') {
      allow(['DELETE']);
      const s = session();
      const cid = decodeSegment(segs[3] as string);
      if (!s.participant(cid)) throw notFound('No such connection in this session');
      s.forceDisconnect(null, cid);
      res.writeHead(204).end();
    } else if (segs.length === 5 && segs[2] === 'connections' && segs[4] === 'signal') {
      allow(['POST']);
      const body = await readJson(req, res);
      const s = session();
      const cid = decodeSegment(segs[3] as string);
      if (!s.participant(cid)) throw notFound('No such connection in this session');
      s.signal(null, cid, body.type as string | undefined, body.data as string | undefined);
      res.writeHead(204).end();
    } else {
      throw notFound('No such endpoint');
    }
  } catch (err) {
    if (err instanceof HttpError) sendJson(res, err.status, { error: err.wire });
    else if (err instanceof RtcError) {
      const status = err.code === 400 || err.code === 404 || err.code === 413 ? err.code : err.name === ErrorName.PermissionDenied ? 403 : 400;
      sendJson(res, status, { error: err.toWire() });
    } else {
      ctx.log.error({ err }, 'REST request failed');
      sendJson(res, 500, { error: { name: ErrorName.UnexpectedServerResponse, code: ErrorCode.InternalError, message: 'Internal server error' } });
    }
  }
  return true;
}

function createSession(body: Record<string, unknown>, modes: SessionModes, isLive: (id: string) => boolean): CreateSessionResponse {
  const mode = body.mediaMode ?? 'routed';
  if (mode !== 'routed' && mode !== 'relayed') throw badRequest(`mediaMode must be "routed" or "relayed", got ${JSON.stringify(mode).slice(0, 40)}`);
  if (body.name !== undefined && typeof body.name !== 'string') throw badRequest('name must be a string');
  try {
    return modes.create(body.name as string | undefined, mode, isLive);
  } catch (err) {
    if (!(err instanceof SessionModeError)) throw err;
    if (err.status === 409) throw new HttpError(409, { name: ErrorName.InvalidState, code: 409, message: err.message });
    if (err.status === 429) throw new HttpError(429, { name: ErrorName.RateLimited, code: ErrorCode.RateLimited, message: err.message });
    throw badRequest(err.message);
  }
}
