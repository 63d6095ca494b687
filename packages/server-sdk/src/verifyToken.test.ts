import { describe, expect, it } from 'vitest';
import { createProjectToken, createToken, isProjectClaims, TokenVerificationError, verifyToken, type TokenErrorReason } from './index.js';
import { craft, nowSec, parts } from './test-helpers/jwt.js';

const apiKey = 'key_test';
const apiSecret = 'secret-0123456789abcdef';
const HS256 = { alg: 'HS256', typ: 'JWT' };
const claims = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  iss: apiKey,
  tpc: 'Room',
  role: 'publisher',
  iat: nowSec(),
  exp: nowSec() + 600,
  ...extra,
});

/** The error verifyToken throws, asserting it is a TokenVerificationError with this reason. */
function rejection(reason: TokenErrorReason, token: string, options?: Parameters<typeof verifyToken>[2]): TokenVerificationError {
  let caught: unknown;
  try {
    verifyToken(token, apiSecret, options);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(TokenVerificationError);
  expect((caught as TokenVerificationError).reason).toBe(reason);
  return caught as TokenVerificationError;
}

describe('verifyToken accepts', () => {
  it('a token from createToken and returns its claims', async () => {
    const token = await createToken({ apiKey, apiSecret, sessionId: 'Room', role: 'moderator', data: 'x' });
    const c = verifyToken(token, apiSecret);
    expect(c).toEqual(parts(token).payload);
    expect(isProjectClaims(c)).toBe(false);
  });

  it('a project token from createProjectToken, recognised by isProjectClaims', async () => {
    const c = verifyToken(await createProjectToken({ apiKey, apiSecret }), apiSecret, { apiKey });
    expect(isProjectClaims(c)).toBe(true);
  });

  it('a session token whose tpc matches sessionId case-insensitively', async () => {
    const token = await createToken({ apiKey, apiSecret, sessionId: 'Weekly SYNC', role: 'host' });
    expect(verifyToken(token, apiSecret, { sessionId: 'weekly sync', apiKey })).toMatchObject({ tpc: 'Weekly SYNC' });
  });

  it('a token signed by hand with node:crypto (interoperability)', () => {
    expect(verifyToken(craft(HS256, claims(), apiSecret), apiSecret)).toMatchObject({ tpc: 'Room' });
  });

  it('an nbf up to 30 s in the future (clock skew, as the server allows)', () => {
    expect(verifyToken(craft(HS256, claims({ nbf: nowSec() + 20 }), apiSecret), apiSecret)).toMatchObject({ tpc: 'Room' });
  });

  it('an nbf further ahead when clockToleranceSeconds allows it', () => {
    const token = craft(HS256, claims({ nbf: nowSec() + 100 }), apiSecret);
    expect(verifyToken(token, apiSecret, { clockToleranceSeconds: 120 })).toMatchObject({ tpc: 'Room' });
  });

  it('a token naming its API key only as app_key', () => {
    const { iss: _omit, ...noIss } = claims();
    const c = verifyToken(craft(HS256, { ...noIss, app_key: apiKey }, apiSecret), apiSecret, { apiKey });
    expect(c).toMatchObject({ app_key: apiKey });
  });
});

describe('verifyToken rejects', () => {
  it('a token signed with another secret (signature)', async () => {
    const token = await createToken({ apiKey, apiSecret: 'not-the-secret', sessionId: 'Room', role: 'publisher' });
    expect(rejection('signature', token).message).toBe('Token signature is invalid');
  });

  it('a token whose payload was altered after signing (signature)', async () => {
    const t = parts(await createToken({ apiKey, apiSecret, sessionId: 'Room', role: 'publisher' }));
    const forged = Buffer.from(JSON.stringify({ ...t.payload, role: 'host' })).toString('base64url');
    rejection('signature', `${t.signingInput.split('.')[0]}.${forged}.${t.signature}`);
  });

  it('a signature whose unused trailing base64url bits were changed (signature)', async () => {
    const token = await createToken({ apiKey, apiSecret, sessionId: 'Room', role: 'publisher' });
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = token.at(-1) as string;
    // 32 bytes use 43 characters: the last one carries 2 unused bits, so this decodes to the same bytes.
    const twin = alphabet[alphabet.indexOf(last) ^ 1] as string;
    const altered = token.slice(0, -1) + twin;
    expect(Buffer.from(altered.split('.')[2] as string, 'base64url')).toEqual(Buffer.from(token.split('.')[2] as string, 'base64url'));
    rejection('signature', altered);
  });

  it('alg none with an empty signature (algorithm)', () => {
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`;
    expect(rejection('algorithm', token).message).toMatch(/"none" is not accepted; only HS256/);
  });

  it('alg HS512 even when correctly signed with the secret (algorithm)', () => {
    rejection('algorithm', craft({ alg: 'HS512', typ: 'JWT' }, claims(), apiSecret, 'sha512'));
  });

  it('a header without alg (algorithm)', () => {
    rejection('algorithm', craft({ typ: 'JWT' }, claims(), apiSecret));
  });

  it('an expired token (expired)', () => {
    expect(rejection('expired', craft(HS256, claims({ exp: nowSec() - 1 }), apiSecret)).message).toMatch(/Token expired at \d{4}-/);
  });

  it('a token expired by one second, whatever the clock tolerance: exp is strict (expired)', () => {
    rejection('expired', craft(HS256, claims({ exp: nowSec() - 1 }), apiSecret), { clockToleranceSeconds: 3600 });
  });

  it('a token whose iat is more than 30 s in the future (notYetValid)', () => {
    rejection('notYetValid', craft(HS256, claims({ iat: nowSec() + 120 }), apiSecret));
  });

  it('a token longer than 8192 characters (malformed)', () => {
    rejection('malformed', craft(HS256, claims({ data: 'x'.repeat(9000) }), apiSecret));
  });

  it('a token without exp (missingExpiry)', () => {
    const { exp: _omit, ...noExp } = claims();
    rejection('missingExpiry', craft(HS256, noExp, apiSecret));
  });

  it('a token whose exp is not a number (invalidClaims)', () => {
    rejection('invalidClaims', craft(HS256, claims({ exp: String(nowSec() + 600) }), apiSecret));
  });

  it('a token whose nbf is in the future (notYetValid)', () => {
    rejection('notYetValid', craft(HS256, claims({ nbf: nowSec() + 120 }), apiSecret));
  });

  it('a token with only two parts (malformed)', () => {
    rejection('malformed', craft(HS256, claims(), apiSecret).split('.').slice(0, 2).join('.'));
  });

  it('a token with characters outside base64url (malformed)', () => {
    rejection('malformed', craft(HS256, claims(), apiSecret).replace('.', '+.'));
  });

  it('a token whose payload is not JSON (malformed)', () => {
    const h = Buffer.from(JSON.stringify(HS256)).toString('base64url');
    rejection('malformed', `${h}.${Buffer.from('not json').toString('base64url')}.abc`);
  });

  it('a token whose payload is a JSON array (malformed)', () => {
    rejection('malformed', craft(HS256, [1, 2, 3], apiSecret));
  });

  it('an empty string (malformed)', () => {
    rejection('malformed', '');
  });

  it('a session token without tpc (invalidClaims)', () => {
    const { tpc: _omit, ...noTpc } = claims();
    rejection('invalidClaims', craft(HS256, noTpc, apiSecret));
  });

  it('an unknown role (invalidClaims)', () => {
    rejection('invalidClaims', craft(HS256, claims({ role: 'admin' }), apiSecret));
  });

  it('a token with no API key (invalidClaims)', () => {
    const { iss: _omit, ...noIss } = claims();
    rejection('invalidClaims', craft(HS256, noIss, apiSecret));
  });

  it('a token issued for another API key (apiKeyMismatch)', () => {
    rejection('apiKeyMismatch', craft(HS256, claims({ iss: 'other' }), apiSecret), { apiKey });
  });

  it('a token for another session (sessionMismatch)', () => {
    rejection('sessionMismatch', craft(HS256, claims({ tpc: 'Room A' }), apiSecret), { sessionId: 'Room B' });
  });

  it('a project token where a session is required (sessionMismatch)', async () => {
    rejection('sessionMismatch', await createProjectToken({ apiKey, apiSecret }), { sessionId: 'Room' });
  });

  it('throws TypeError, not a verification error, when the secret is missing', () => {
    expect(() => verifyToken('a.b.c', '')).toThrow(TypeError);
  });
});
