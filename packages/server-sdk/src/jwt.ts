import { createHmac, timingSafeEqual } from 'node:crypto';

/*
 * The small slice of JWS (RFC 7515) Convene needs: compact HS256 tokens.
 * Internal to the package; the public surface is createToken/verifyToken.
 */

/** The only header Convene writes. */
const HEADER_B64 = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Sign a claims object as a compact HS256 JWT. */
export function signHs256(claims: object, secret: string): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const signingInput = `${HEADER_B64}.${payload}`;
  const signature = createHmac('sha256', secret).update(signingInput).digest('base64url');
  return `${signingInput}.${signature}`;
}

/** A compact JWS split into its parts, with header and payload parsed but not yet trusted. */
export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: string;
  /** The signature exactly as written (base64url). */
  signature: string;
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Split and parse a compact JWS; returns an error message instead of throwing. */
export function decodeJwt(token: string): { ok: true; jwt: DecodedJwt } | { ok: false; message: string } {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, message: 'Token must have three dot-separated parts' };
  const [h, p, s] = parts as [string, string, string];
  if (!BASE64URL.test(h) || !BASE64URL.test(p) || !BASE64URL.test(s))
    return { ok: false, message: 'Token parts must be base64url without padding' };
  let header: unknown;
  let payload: unknown;
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
    payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, message: 'Token header or payload is not valid JSON' };
  }
  if (!isObject(header)) return { ok: false, message: 'Token header must be a JSON object' };
  if (!isObject(payload)) return { ok: false, message: 'Token payload must be a JSON object' };
  return { ok: true, jwt: { header, payload, signingInput: `${h}.${p}`, signature: s } };
}

/**
 * Constant-time check of an HS256 signature. Compares the canonical base64url
 * text, not decoded bytes: Node's decoder ignores the unused low bits of the
 * last character, so a byte comparison would accept altered tokens.
 */
export function hs256SignatureValid(jwt: DecodedJwt, secret: string): boolean {
  const expected = Buffer.from(createHmac('sha256', secret).update(jwt.signingInput).digest('base64url'));
  const given = Buffer.from(jwt.signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
