import { describe, expect, it } from 'vitest';
import { checkTimeClaims, signHs256, verifyHs256 } from './jwt.js';

const secretFor = (k: string): string | undefined => (k === 'key' ? 'secret' : undefined);

describe('HS256 JWT', () => {
  it('verifies what it signs', () => {
    const t = signHs256({ iss: 'key', tpc: 's', exp: 1 }, 'secret');
    expect(verifyHs256(t, secretFor)).toMatchObject({ ok: true, issuer: 'key', payload: { tpc: 's' } });
  });

  it('rejects a token with a tampered payload', () => {
    const [h, , s] = signHs256({ iss: 'key', role: 'publisher' }, 'secret').split('.');
    const p = Buffer.from(JSON.stringify({ iss: 'key', role: 'host' })).toString('base64url');
    expect(verifyHs256(`${h}.${p}.${s}`, secretFor)).toMatchObject({ ok: false, message: 'Token signature is invalid' });
  });

  it('rejects a truncated signature', () => {
    const t = signHs256({ iss: 'key' }, 'secret');
    expect(verifyHs256(t.slice(0, -4), secretFor)).toMatchObject({ ok: false, message: 'Token signature is invalid' });
  });

  it('rejects a non-canonical signature that differs only in unused trailing bits', () => {
    const t = signHs256({ iss: 'key', tpc: 's', exp: 1 }, 'secret');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(t.at(-1) as string);
    // 32 signature bytes use 43 base64url characters; the last carries 2 unused bits.
    const twin = t.slice(0, -1) + alphabet[last ^ 1];
    expect(Buffer.from(twin.split('.')[2] as string, 'base64url')).toEqual(Buffer.from(t.split('.')[2] as string, 'base64url'));
    expect(verifyHs256(twin, secretFor)).toMatchObject({ ok: false, message: 'Token signature is invalid' });
  });

  it('rejects tokens without an issuer', () => {
    expect(verifyHs256(signHs256({ tpc: 'x' }, 'secret'), secretFor)).toMatchObject({ ok: false, message: expect.stringContaining('no issuer') });
  });

  it('checks exp strictly and allows skew for nbf and iat', () => {
    expect(checkTimeClaims({ exp: 100 }, 100, 30)).toBe('Token has expired');
    expect(checkTimeClaims({ exp: 101 }, 100, 30)).toBeNull();
    expect(checkTimeClaims({ exp: 200, nbf: 129 }, 100, 30)).toBeNull();
    expect(checkTimeClaims({ exp: 200, nbf: 131 }, 100, 30)).toMatch(/not valid yet/);
    expect(checkTimeClaims({ exp: 200, iat: 131 }, 100, 30)).toMatch(/issued in the future/);
    expect(checkTimeClaims({ exp: '200' }, 100, 30)).toMatch(/exp must be a number/);
    expect(checkTimeClaims({}, 100, 30)).toMatch(/no expiry/);
  });
});
