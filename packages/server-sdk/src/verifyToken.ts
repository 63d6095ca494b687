import { limits, normalizeSessionName, ROLES, type ProjectTokenClaims, type TokenClaims } from '@convene/protocol';
import { decodeJwt, hs256SignatureValid } from './jwt.js';

/** Why {@link verifyToken} rejected a token. */
export type TokenErrorReason =
  | 'malformed'
  | 'algorithm'
  | 'signature'
  | 'missingExpiry'
  | 'expired'
  | 'notYetValid'
  | 'invalidClaims'
  | 'apiKeyMismatch'
  | 'sessionMismatch';

/** Thrown by {@link verifyToken}; `reason` says which rule the token broke. */
export class TokenVerificationError extends Error {
  override readonly name = 'TokenVerificationError';
  readonly reason: TokenErrorReason;

  constructor(reason: TokenErrorReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

/** Options of {@link verifyToken}. */
export interface VerifyTokenOptions {
  /** Require this API key as `iss` (or `app_key`). */
  apiKey?: string;
  /** Require a session token for this session (compared case-insensitively, as the server does). */
  sessionId?: string;
  /**
   * Seconds of clock skew tolerated for `nbf` and `iat` (default 30, as the server).
   * `exp` is strict: an expired token is refused however small the skew.
   */
  clockToleranceSeconds?: number;
  /** Current time in seconds since the epoch (default: now). */
  now?: number;
}

/** Claims of a verified token: a session token, or a project (REST) token when `ist === 'project'`. */
export type VerifiedClaims = TokenClaims | ProjectTokenClaims;

/** True when verified claims are those of a project (REST) token. */
export function isProjectClaims(claims: VerifiedClaims): claims is ProjectTokenClaims {
  return (claims as ProjectTokenClaims).ist === 'project';
}

const fail = (reason: TokenErrorReason, message: string): never => {
  throw new TokenVerificationError(reason, message);
};

/** Clock skew the server allows for `nbf` and `iat`. */
const DEFAULT_CLOCK_SKEW_SECONDS = 30;
/** Longest token the server reads. */
const MAX_TOKEN_CHARS = 8192;

const isNumericDate = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Type checks of the claims the server reads; unknown claims are left alone. */
function checkClaimTypes(p: Record<string, unknown>): void {
  for (const k of ['iss', 'app_key', 'user_identity', 'user_name', 'data', 'jti'])
    if (p[k] !== undefined && typeof p[k] !== 'string') fail('invalidClaims', `Claim ${k} must be a string`);
  if (p.iss === undefined && p.app_key === undefined) fail('invalidClaims', 'Token names no API key (iss or app_key)');
  if (p.ist === 'project') return;
  const tpc = normalizeSessionName(p.tpc);
  if (!tpc.ok) fail('invalidClaims', `Claim tpc: ${tpc.message}`);
  if (p.role !== undefined && !(ROLES as readonly unknown[]).includes(p.role))
    fail('invalidClaims', `Claim role must be one of ${ROLES.join(', ')}`);
  if (p.role_type !== undefined && p.role_type !== 0 && p.role_type !== 1) fail('invalidClaims', 'Claim role_type must be 0 or 1');
  if (typeof p.data === 'string' && p.data.length > limits.connectionDataMaxLength)
    fail('invalidClaims', `Claim data exceeds ${limits.connectionDataMaxLength} characters`);
}

/**
 * Verify a Convene token (session or project) with the rules the server applies:
 * at most 8 kB, HS256 only (`none` and every other algorithm are rejected), a valid
 * signature, `exp` present and not past, `nbf` and `iat` not in the future (30 s
 * of skew allowed), claims of the right types.
 * Returns the claims or throws {@link TokenVerificationError}.
 *
 * @example
 * ```ts
 * const claims = verifyToken(token, apiSecret, { apiKey, sessionId: 'weekly sync' });
 * if (!isProjectClaims(claims)) console.log(claims.tpc, roleOf(claims));
 * ```
 */
export function verifyToken(token: string, apiSecret: string, options: VerifyTokenOptions = {}): VerifiedClaims {
  if (typeof apiSecret !== 'string' || apiSecret.length === 0) throw new TypeError('apiSecret must be a non-empty string');
  if (typeof token !== 'string' || token.length === 0) return fail('malformed', 'Token must be a non-empty string');
  if (token.length > MAX_TOKEN_CHARS) return fail('malformed', `Token is longer than ${MAX_TOKEN_CHARS} characters`);
  const decoded = decodeJwt(token);
  if (!decoded.ok) return fail('malformed', decoded.message);
  const { header, payload } = decoded.jwt;
  // Checked before the signature so `alg: none` and RS256/HS256 confusion never reach HMAC code.
  if (header.alg !== 'HS256') return fail('algorithm', `Token algorithm ${JSON.stringify(header.alg)} is not accepted; only HS256`);
  if (!hs256SignatureValid(decoded.jwt, apiSecret)) return fail('signature', 'Token signature is invalid');

  const skew = options.clockToleranceSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (payload.exp === undefined) return fail('missingExpiry', 'Token has no exp claim');
  if (!isNumericDate(payload.exp)) return fail('invalidClaims', 'Claim exp must be a number');
  if (payload.exp <= now) return fail('expired', `Token expired at ${new Date(payload.exp * 1000).toISOString()}`);
  for (const k of ['nbf', 'iat'] as const)
    if (payload[k] !== undefined && !isNumericDate(payload[k])) return fail('invalidClaims', `Claim ${k} must be a number`);
  if (isNumericDate(payload.nbf) && payload.nbf > now + skew)
    return fail('notYetValid', `Token is not valid before ${new Date(payload.nbf * 1000).toISOString()}`);
  if (isNumericDate(payload.iat) && payload.iat > now + skew)
    return fail('notYetValid', `Token was issued in the future (iat ${new Date(payload.iat * 1000).toISOString()})`);
  checkClaimTypes(payload);

  const apiKey = (payload.iss ?? payload.app_key) as string;
  if (options.apiKey !== undefined && apiKey !== options.apiKey)
    return fail('apiKeyMismatch', `Token was issued for API key ${JSON.stringify(apiKey)}, not ${JSON.stringify(options.apiKey)}`);
  if (options.sessionId !== undefined) {
    if (payload.ist === 'project') return fail('sessionMismatch', 'A project token opens no session');
    const want = normalizeSessionName(options.sessionId);
    if (!want.ok || (payload.tpc as string).toLowerCase() !== want.value)
      return fail('sessionMismatch', 'Token is for a different session');
  }
  return payload as unknown as VerifiedClaims;
}
