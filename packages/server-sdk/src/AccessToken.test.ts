import { describe, expect, it } from 'vitest';
import { AccessToken } from './index.js';
import { hmac, parts } from './test-helpers/jwt.js';

const apiKey = 'key_test';
const apiSecret = 'secret-0123456789abcdef';

const typeError = async (p: Promise<unknown>, message: RegExp): Promise<void> => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TypeError);
  expect((err as Error).message).toMatch(message);
};

describe('AccessToken', () => {
  it('toJwt() signs the same claims createToken writes', async () => {
    const at = new AccessToken(apiKey, apiSecret, { identity: 'user-42', name: 'Ada', data: 'team=red', ttl: 600 });
    at.addGrant({ session: 'Weekly Sync', role: 'host' });
    const t = parts(await at.toJwt());
    expect(t.header).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(t.signature).toBe(hmac(t.signingInput, apiSecret));
    expect(t.payload).toMatchObject({
      iss: apiKey,
      app_key: apiKey,
      tpc: 'Weekly Sync',
      role: 'host',
      user_identity: 'user-42',
      user_name: 'Ada',
      data: 'team=red',
    });
    expect(t.payload.exp).toBe((t.payload.iat as number) + 600);
  });

  it('accepts ttl as a duration string', async () => {
    for (const [ttl, seconds] of [
      ['45s', 45],
      ['10m', 600],
      ['2h', 7200],
      ['7d', 604800],
      ['120', 120],
    ] as const) {
      const t = parts(await new AccessToken(apiKey, apiSecret, { ttl }).addGrant({ session: 's' }).toJwt());
      expect(t.payload.exp).toBe((t.payload.iat as number) + seconds);
    }
  });

  it('defaults to a 24 h publisher token', async () => {
    const t = parts(await new AccessToken(apiKey, apiSecret).addGrant({ session: 's' }).toJwt());
    expect(t.payload.role).toBe('publisher');
    expect(t.payload.exp).toBe((t.payload.iat as number) + 86400);
  });

  it('uses properties set after construction', async () => {
    const at = new AccessToken(apiKey, apiSecret);
    at.name = 'Grace';
    at.identity = 'u-7';
    at.ttl = '1h';
    at.addGrant({ session: 'room', roleType: 1 });
    const { payload } = parts(await at.toJwt());
    expect(payload).toMatchObject({ user_name: 'Grace', user_identity: 'u-7', role_type: 1 });
    expect(payload.exp).toBe((payload.iat as number) + 3600);
  });

  it('a later addGrant() replaces the earlier one: a token opens one session', async () => {
    const at = new AccessToken(apiKey, apiSecret).addGrant({ session: 'a', role: 'subscriber' }).addGrant({ session: 'b' });
    expect(at.sessionId).toBe('b');
    expect(at.role).toBeUndefined();
    expect(parts(await at.toJwt()).payload).toMatchObject({ tpc: 'b', role: 'publisher' });
  });

  it('toJwt() rejects with TypeError when no session was granted', async () => {
    await typeError(new AccessToken(apiKey, apiSecret).toJwt(), /call addGrant\(\{ session, role \}\) first/);
  });

  it('toJwt() rejects with TypeError on an unparsable ttl', async () => {
    await typeError(new AccessToken(apiKey, apiSecret, { ttl: '10 minutes' }).addGrant({ session: 's' }).toJwt(), /duration like/);
  });

  it('toJwt() rejects with TypeError when ttl exceeds 30 days', async () => {
    await typeError(new AccessToken(apiKey, apiSecret, { ttl: '31d' }).addGrant({ session: 's' }).toJwt(), /at most 2592000/);
  });

  it('toJwt() rejects with TypeError for a session name over 150 characters', async () => {
    await typeError(new AccessToken(apiKey, apiSecret).addGrant({ session: 'x'.repeat(151) }).toJwt(), /exceeds 150 characters/);
  });

  it('the constructor throws TypeError without an API key or secret', () => {
    expect(() => new AccessToken('', apiSecret)).toThrow(TypeError);
    expect(() => new AccessToken(apiKey, undefined as unknown as string)).toThrow(/apiSecret must be a non-empty string/);
  });
});
