import { describe, expect, it } from 'vitest';
import { createProjectToken, createToken, type CreateTokenOptions } from './index.js';
import { hmac, nowSec, parts } from './test-helpers/jwt.js';

const apiKey = 'key_test';
const apiSecret = 'secret-0123456789abcdef';
const base: CreateTokenOptions = { apiKey, apiSecret, sessionId: 'Weekly Sync #1', role: 'publisher' };

describe('createToken', () => {
  it('writes the header {alg: HS256, typ: JWT}', async () => {
    expect(parts(await createToken(base)).header).toEqual({ alg: 'HS256', typ: 'JWT' });
  });

  it('is signed with HMAC-SHA256 of header.payload under the API secret', async () => {
    const t = parts(await createToken(base));
    expect(t.signature).toBe(hmac(t.signingInput, apiSecret));
    expect(t.signature).not.toBe(hmac(t.signingInput, 'another secret'));
  });

  it('writes iss and app_key = API key and tpc = the session name exactly as given', async () => {
    const { payload } = parts(await createToken({ ...base, sessionId: 'Ünïcode Room / with ?#% symbols' }));
    expect(payload.iss).toBe(apiKey);
    expect(payload.app_key).toBe(apiKey);
    expect(payload.tpc).toBe('Ünïcode Room / with ?#% symbols');
  });

  it('writes role, user_name, user_identity and data when given', async () => {
    const { payload } = parts(
      await createToken({ ...base, role: 'moderator', userName: 'Ada', userIdentity: 'user-42', data: '{"team":"red"}' }),
    );
    expect(payload).toMatchObject({ role: 'moderator', user_name: 'Ada', user_identity: 'user-42', data: '{"team":"red"}' });
  });

  it('omits optional claims that were not given', async () => {
    const { payload } = parts(await createToken(base));
    expect(Object.keys(payload).sort()).toEqual(['app_key', 'exp', 'iat', 'iss', 'jti', 'role', 'tpc']);
  });

  it('defaults the role to publisher', async () => {
    const { role: _omit, ...noRole } = base;
    expect(parts(await createToken(noRole)).payload.role).toBe('publisher');
  });

  it('sets iat to now and exp to iat + 24 h by default', async () => {
    const before = nowSec();
    const { payload } = parts(await createToken(base));
    const after = nowSec();
    expect(payload.iat).toBeGreaterThanOrEqual(before);
    expect(payload.iat).toBeLessThanOrEqual(after);
    expect(payload.exp).toBe((payload.iat as number) + 24 * 3600);
  });

  it('sets exp to iat + ttlSeconds', async () => {
    const { payload } = parts(await createToken({ ...base, ttlSeconds: 90 }));
    expect(payload.exp).toBe((payload.iat as number) + 90);
  });

  it('accepts a ttl of exactly 30 days', async () => {
    const { payload } = parts(await createToken({ ...base, ttlSeconds: 30 * 86400 }));
    expect(payload.exp).toBe((payload.iat as number) + 30 * 86400);
  });

  it('gives every token a distinct random jti', async () => {
    const a = parts(await createToken(base)).payload.jti;
    const b = parts(await createToken(base)).payload.jti;
    expect(typeof a).toBe('string');
    expect((a as string).length).toBeGreaterThanOrEqual(16);
    expect(a).not.toBe(b);
  });

  it('writes role_type alone when only roleType is given', async () => {
    const { role: _omit, ...noRole } = base;
    const { payload } = parts(await createToken({ ...noRole, roleType: 1 }));
    expect(payload.role_type).toBe(1);
    expect(payload.role).toBeUndefined();
  });

  it('writes both role and role_type when they agree', async () => {
    const { payload } = parts(await createToken({ ...base, role: 'host', roleType: 1 }));
    expect(payload).toMatchObject({ role: 'host', role_type: 1 });
  });

  it('writes nbf in seconds from a Date', async () => {
    const at = new Date(Date.now() + 60_000);
    const { payload } = parts(await createToken({ ...base, notBefore: at }));
    expect(payload.nbf).toBe(Math.floor(at.getTime() / 1000));
  });

  it('accepts a session name of exactly 150 characters', async () => {
    const name = 'x'.repeat(150);
    expect(parts(await createToken({ ...base, sessionId: name })).payload.tpc).toBe(name);
  });

  it('accepts data of exactly 1000 characters', async () => {
    const data = 'd'.repeat(1000);
    expect(parts(await createToken({ ...base, data })).payload.data).toBe(data);
  });
});

describe('createToken argument validation', () => {
  /** Asserts a TypeError (not just any error) with a message matching `message`. */
  const rejects = async (o: unknown, message: RegExp): Promise<void> => {
    const err = await createToken(o as CreateTokenOptions).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TypeError);
    expect((err as Error).message).toMatch(message);
  };

  it('rejects with TypeError when the options object is missing', async () => {
    await rejects(undefined, /createToken\(\) needs an options object/);
  });
  it('rejects with TypeError when apiKey is missing or empty', async () => {
    await rejects({ ...base, apiKey: undefined }, /apiKey must be a non-empty string/);
    await rejects({ ...base, apiKey: '' }, /apiKey must be a non-empty string/);
  });
  it('rejects with TypeError when apiSecret is missing or empty', async () => {
    await rejects({ ...base, apiSecret: undefined }, /apiSecret must be a non-empty string/);
    await rejects({ ...base, apiSecret: '' }, /apiSecret must be a non-empty string/);
  });
  it('rejects with TypeError when sessionId is empty or not a string', async () => {
    await rejects({ ...base, sessionId: '' }, /sessionId: Session name must be a non-empty string/);
    await rejects({ ...base, sessionId: 42 }, /sessionId/);
  });
  it('rejects with TypeError when sessionId exceeds 150 characters', async () => {
    await rejects({ ...base, sessionId: 'x'.repeat(151) }, /exceeds 150 characters/);
  });
  it('rejects with TypeError for an unknown role', async () => {
    await rejects({ ...base, role: 'admin' }, /role must be one of subscriber, publisher, moderator, host/);
  });
  it('rejects with TypeError for a roleType other than 0 or 1', async () => {
    await rejects({ ...base, role: undefined, roleType: 2 }, /roleType must be 0 \(publisher\) or 1 \(host\)/);
  });
  it('rejects with TypeError when role and roleType contradict each other', async () => {
    await rejects({ ...base, role: 'subscriber', roleType: 1 }, /contradicts roleType 1/);
  });
  it('rejects with TypeError when data exceeds 1000 characters', async () => {
    await rejects({ ...base, data: 'd'.repeat(1001) }, /data must be at most 1000 characters/);
  });
  it('rejects with TypeError when userName, userIdentity or data is not a string', async () => {
    await rejects({ ...base, userName: 5 }, /userName must be a string/);
    await rejects({ ...base, userIdentity: {} }, /userIdentity must be a string/);
    await rejects({ ...base, data: { a: 1 } }, /data must be a string/);
  });
  it('rejects with TypeError when ttlSeconds exceeds 30 days', async () => {
    await rejects({ ...base, ttlSeconds: 30 * 86400 + 1 }, /at most 2592000 \(30 days\)/);
  });
  it('rejects with TypeError when ttlSeconds is zero, negative, fractional or not a number', async () => {
    for (const ttlSeconds of [0, -5, 1.5, Number.NaN, '60'])
      await rejects({ ...base, ttlSeconds }, /ttlSeconds must be a positive whole number of seconds/);
  });
  it('rejects with TypeError when notBefore is an invalid Date or negative', async () => {
    await rejects({ ...base, notBefore: new Date('nope') }, /notBefore must be a valid Date/);
    await rejects({ ...base, notBefore: -1 }, /notBefore must be a valid Date/);
  });
  it('rejects with TypeError when notBefore is not before the expiry', async () => {
    await rejects({ ...base, ttlSeconds: 60, notBefore: nowSec() + 3600 }, /notBefore must be earlier than the expiry/);
  });
});

describe('createProjectToken', () => {
  it('writes {iss, ist: project, iat, exp, jti} and nothing about sessions', async () => {
    const t = parts(await createProjectToken({ apiKey, apiSecret }));
    expect(t.header).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(Object.keys(t.payload).sort()).toEqual(['exp', 'iat', 'iss', 'ist', 'jti']);
    expect(t.payload).toMatchObject({ iss: apiKey, ist: 'project' });
    expect(t.signature).toBe(hmac(t.signingInput, apiSecret));
  });

  it('expires 5 minutes after iat by default, or after ttlSeconds', async () => {
    const a = parts(await createProjectToken({ apiKey, apiSecret })).payload;
    expect(a.exp).toBe((a.iat as number) + 300);
    const b = parts(await createProjectToken({ apiKey, apiSecret, ttlSeconds: 30 })).payload;
    expect(b.exp).toBe((b.iat as number) + 30);
  });

  it('rejects with TypeError on a missing secret or a bad ttl', async () => {
    await expect(createProjectToken({ apiKey, apiSecret: '' })).rejects.toThrow(/apiSecret must be a non-empty string/);
    await expect(createProjectToken({ apiKey, apiSecret, ttlSeconds: -1 })).rejects.toBeInstanceOf(TypeError);
  });
});
