import { randomBytes } from 'node:crypto';
import { limits, normalizeSessionName, ROLES, type ProjectTokenClaims, type Role, type TokenClaims } from '@convene/protocol';
import { signHs256 } from './jwt.js';

/** Default lifetime of a session token: 24 hours. */
export const DEFAULT_TOKEN_TTL_SECONDS = 24 * 60 * 60;
/** Longest lifetime a token may have: 30 days. */
export const MAX_TOKEN_TTL_SECONDS = 30 * 24 * 60 * 60;
/** Default lifetime of a project (REST) token: 5 minutes. */
export const DEFAULT_PROJECT_TOKEN_TTL_SECONDS = 5 * 60;

/** Options of {@link createToken}. */
export interface CreateTokenOptions {
  /** API key; written as `iss` and `app_key`. */
  apiKey: string;
  /** API secret the token is signed with (HS256). */
  apiSecret: string;
  /** Session name the token opens (`tpc`), at most 150 characters; matched case-insensitively by the server. */
  sessionId: string;
  /** `subscriber` | `publisher` | `moderator` | `host`. Defaults to `publisher` unless `roleType` is given. */
  role?: Role;
  /** Zoom-style role: 1 host, 0 publisher (`role_type`). Must agree with `role` when both are given. */
  roleType?: 0 | 1;
  /** Default display name (`user_name`). */
  userName?: string;
  /** Connection data every participant sees as `connection.data`, at most 1000 characters. */
  data?: string;
  /** Your application's id for the user (`user_identity`). */
  userIdentity?: string;
  /** Lifetime in whole seconds (default 24 h, at most 30 days). */
  ttlSeconds?: number;
  /** Earliest time the token is accepted: a Date or seconds since the epoch (`nbf`). */
  notBefore?: Date | number;
}

/** Options of {@link createProjectToken}. */
export interface CreateProjectTokenOptions {
  apiKey: string;
  apiSecret: string;
  /** Lifetime in whole seconds (default 5 minutes, at most 30 days). */
  ttlSeconds?: number;
}

const nonEmptyString = (v: unknown, what: string): string => {
  if (typeof v !== 'string' || v.length === 0) throw new TypeError(`${what} must be a non-empty string`);
  return v;
};

const optionalString = (v: unknown, what: string): string | undefined => {
  if (v !== undefined && typeof v !== 'string') throw new TypeError(`${what} must be a string`);
  return v;
};

/** Validated `ttlSeconds`, or the default. */
export function checkTtl(ttl: unknown, fallback: number): number {
  if (ttl === undefined) return fallback;
  if (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl <= 0)
    throw new TypeError(`ttlSeconds must be a positive whole number of seconds, got ${String(ttl)}`);
  if (ttl > MAX_TOKEN_TTL_SECONDS) throw new TypeError(`ttlSeconds must be at most ${MAX_TOKEN_TTL_SECONDS} (30 days), got ${ttl}`);
  return ttl;
}

function checkNotBefore(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const seconds = v instanceof Date ? Math.floor(v.getTime() / 1000) : v;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0)
    throw new TypeError('notBefore must be a valid Date or a non-negative number of seconds since the epoch');
  return Math.floor(seconds);
}

function checkRole(role: unknown, roleType: unknown): Pick<TokenClaims, 'role' | 'role_type'> {
  if (role !== undefined && (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)))
    throw new TypeError(`role must be one of ${ROLES.join(', ')}, got ${JSON.stringify(role)}`);
  if (roleType !== undefined && roleType !== 0 && roleType !== 1)
    throw new TypeError(`roleType must be 0 (publisher) or 1 (host), got ${JSON.stringify(roleType)}`);
  if (role !== undefined && roleType !== undefined) {
    const implied: Role = roleType === 1 ? 'host' : 'publisher';
    if (role !== implied) throw new TypeError(`role ${JSON.stringify(role)} contradicts roleType ${roleType} (${implied})`);
    return { role: role as Role, role_type: roleType };
  }
  if (roleType !== undefined) return { role_type: roleType };
  return { role: (role as Role | undefined) ?? 'publisher' };
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);
const newJti = (): string => randomBytes(16).toString('base64url');

/**
 * Build and validate the claims of a session token without signing them.
 * Throws TypeError on bad arguments.
 */
export function buildTokenClaims(options: CreateTokenOptions, now: number = nowSeconds()): TokenClaims {
  if (typeof options !== 'object' || options === null) throw new TypeError('createToken() needs an options object');
  const apiKey = nonEmptyString(options.apiKey, 'apiKey');
  nonEmptyString(options.apiSecret, 'apiSecret');
  const session = normalizeSessionName(options.sessionId);
  if (!session.ok) throw new TypeError(`sessionId: ${session.message}`);
  const roles = checkRole(options.role, options.roleType);
  const userName = optionalString(options.userName, 'userName');
  const userIdentity = optionalString(options.userIdentity, 'userIdentity');
  const data = optionalString(options.data, 'data');
  // Counted in UTF-16 units: never more permissive than a server counting code points.
  if (data !== undefined && data.length > limits.connectionDataMaxLength)
    throw new TypeError(`data must be at most ${limits.connectionDataMaxLength} characters, got ${data.length}`);
  const ttl = checkTtl(options.ttlSeconds, DEFAULT_TOKEN_TTL_SECONDS);
  const nbf = checkNotBefore(options.notBefore);
  const exp = now + ttl;
  if (nbf !== undefined && nbf >= exp) throw new TypeError('notBefore must be earlier than the expiry (now + ttlSeconds)');

  const claims: TokenClaims = { iss: apiKey, app_key: apiKey, tpc: options.sessionId, ...roles, exp };
  if (userIdentity !== undefined) claims.user_identity = userIdentity;
  if (userName !== undefined) claims.user_name = userName;
  if (data !== undefined) claims.data = data;
  claims.iat = now;
  if (nbf !== undefined) claims.nbf = nbf;
  claims.jti = newJti();
  return claims;
}

/**
 * Create a token that lets one user join one session with one role.
 *
 * @example
 * ```ts
 * import { createToken } from '@convene/server-sdk';
 * const token = await createToken({
 *   apiKey: process.env.CONVENE_API_KEY!,
 *   apiSecret: process.env.CONVENE_API_SECRET!,
 *   sessionId: 'Weekly sync',
 *   role: 'host',
 *   userName: 'Ada',
 *   data: JSON.stringify({ userId: 42 }),
 *   ttlSeconds: 2 * 60 * 60,
 * });
 * ```
 */
export async function createToken(options: CreateTokenOptions): Promise<string> {
  const claims = buildTokenClaims(options);
  return signHs256(claims, options.apiSecret);
}

/**
 * Create a project token (`ist: 'project'`) that authenticates calls to the REST API
 * as `Authorization: Bearer <token>`. It opens no session.
 *
 * @example
 * ```ts
 * const jwt = await createProjectToken({ apiKey, apiSecret, ttlSeconds: 60 });
 * await fetch(`${serverUrl}/v1/sessions`, { headers: { authorization: `Bearer ${jwt}` } });
 * ```
 */
export async function createProjectToken(options: CreateProjectTokenOptions): Promise<string> {
  if (typeof options !== 'object' || options === null) throw new TypeError('createProjectToken() needs an options object');
  const apiKey = nonEmptyString(options.apiKey, 'apiKey');
  const apiSecret = nonEmptyString(options.apiSecret, 'apiSecret');
  const ttl = checkTtl(options.ttlSeconds, DEFAULT_PROJECT_TOKEN_TTL_SECONDS);
  const now = nowSeconds();
  const claims: ProjectTokenClaims = { iss: apiKey, ist: 'project', iat: now, exp: now + ttl, jti: newJti() };
  return signHs256(claims, apiSecret);
}
