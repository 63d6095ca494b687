import { createHmac, timingSafeEqual } from 'node:crypto';

/** A decoded, signature-checked JWT, or why it was refused. */
export type JwtResult = { ok: true; payload: Record<string, unknown> } | { ok: false; message: string };

const b64json = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');

/** Sign claims as an HS256 JWT. */
export function signHs256(payload: Record<string, unknown>, secret: string): string {
  const head = b64json({ alg: 'HS256', typ: 'JWT' }) + '.' + b64json(payload);
  return head + '.' + createHmac('sha256', secret).update(head).digest('base64url');
}

const B64URL = /^[A-Za-z0-9_-]*$/;

function decodePart(part: string): Record<string, unknown> | null {
  if (!B64URL.test(part)) return null;
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * Decode and verify an HS256 JWT. `secretFor` maps the issuer (`iss`, or
 * `app_key`) to its secret, or undefined when the key is unknown. Only the
 * structure, algorithm, issuer and signature are checked here; time claims
 * are the caller's (it knows the clock skew it allows).
 */
export function verifyHs256(token: string, secretFor: (apiKey: string) => string | undefined): JwtResult & { issuer?: string } {
  if (typeof token !== 'string' || token.length === 0) return { ok: false, message: 'Malformed token: empty' };
  if (token.length > 8192) return { ok: false, message: 'Malformed token: too long' };
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, message: 'Malformed token: a JWT has three dot-separated parts' };
  const [h, p, s] = parts as [string, string, string];
  const header = decodePart(h);
  if (!header) return { ok: false, message: 'Malformed token: the header is not base64url JSON' };
  if (header.alg !== 'HS256') return { ok: false, message: `Token algorithm ${JSON.stringify(header.alg ?? null).slice(0, 32)} is not allowed; only HS256 is accepted` };
  const payload = decodePart(p);
  if (!payload) return { ok: false, message: 'Malformed token: the payload is not base64url JSON' };
  const issuer = typeof payload.iss === 'string' ? payload.iss : typeof payload.app_key === 'string' ? payload.app_key : undefined;
  if (issuer === undefined) return { ok: false, message: 'Token has no issuer (iss or app_key)' };
  const secret = secretFor(issuer);
  if (secret === undefined) return { ok: false, message: 'Token was issued for an unknown API key' };
  if (!B64URL.test(s)) return { ok: false, message: 'Malformed token: the signature is not base64url' };
  // Compare the canonical base64url text, not decoded bytes: a signature whose last character differs
  // only in unused bits decodes to the same bytes but is not the token we issued.
  const expected = Buffer.from(createHmac('sha256', secret).update(h + '.' + p).digest('base64url'));
  const given = Buffer.from(s);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, message: 'Token signature is invalid' };
  return { ok: true, payload, issuer };
}

/** Check `exp` (strict, required), `nbf` and `iat` (allowing `skewSec` of clock skew). Returns an error message or null. */
export function checkTimeClaims(payload: Record<string, unknown>, nowSec: number, skewSec: number): string | null {
  const { exp, nbf, iat } = payload;
  if (exp === undefined) return 'Token has no expiry (exp)';
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return 'Token exp must be a number of seconds';
  if (exp <= nowSec) return 'Token has expired';
  if (nbf !== undefined && (typeof nbf !== 'number' || !Number.isFinite(nbf))) return 'Token nbf must be a number of seconds';
  if (typeof nbf === 'number' && nbf > nowSec + skewSec) return 'Token is not valid yet (nbf is in the future)';
  if (iat !== undefined && (typeof iat !== 'number' || !Number.isFinite(iat))) return 'Token iat must be a number of seconds';
  if (typeof iat === 'number' && iat > nowSec + skewSec) return 'Token was issued in the future (iat)';
  return null;
}
