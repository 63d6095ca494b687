import { createHmac } from 'node:crypto';

/*
 * Test-only JWT helpers written straight on node:crypto, independent of the SDK's
 * own encoder, so tests check the SDK against the standard rather than itself.
 */

export interface Parts {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: string;
  signature: string;
}

/** Split a compact JWS and parse its header and payload. */
export function parts(token: string): Parts {
  const [h, p, s] = token.split('.');
  if (h === undefined || p === undefined || s === undefined) throw new Error(`not a compact JWS: ${token}`);
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>,
    signingInput: `${h}.${p}`,
    signature: s,
  };
}

const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');

/** HMAC signature of a signing input, base64url, with the given hash. */
export function hmac(signingInput: string, secret: string, hash: 'sha256' | 'sha384' | 'sha512' = 'sha256'): string {
  return createHmac(hash, secret).update(signingInput).digest('base64url');
}

/** Hand-craft a token with any header and payload, HMAC-signed with `hash`. */
export function craft(header: object, payload: object, secret: string, hash: 'sha256' | 'sha384' | 'sha512' = 'sha256'): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${hmac(input, secret, hash)}`;
}

/** Seconds since the epoch, now. */
export const nowSec = (): number => Math.floor(Date.now() / 1000);
