import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, join, startTestServer, TestClient, type Frame } from '../test-helpers/wsClient.js';
import { createIceServerProvider, iceServersFromSettings, turnRestCredentials } from './iceServers.js';
import type { ConveneServer } from './startServer.js';

describe('ICE server configuration', () => {
  it('mints TURN REST API credentials: username "<expiry>:<connectionId>", credential base64(HMAC-SHA1(secret, username))', () => {
    const now = Date.UTC(2026, 0, 1);
    const c = turnRestCredentials('s3cret', 'c_42', 600, now);
    expect(c.username).toBe(`${now / 1000 + 600}:c_42`);
    expect(c.credential).toBe(createHmac('sha1', 's3cret').update(c.username).digest('base64'));
    // RFC-style known answer: HMAC-SHA1("key", "The quick brown fox jumps over the lazy dog") = de7c9b85…
    expect(createHmac('sha1', 'key').update('The quick brown fox jumps over the lazy dog').digest('hex')).toBe('de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9');
  });

  it('gives each connection its own short-lived credentials and passes static ones unchanged', () => {
    const p = createIceServerProvider([
      { urls: 'stun:stun.example.org' },
      { urls: ['turn:turn.example.org:3478?transport=udp', 'turns:turn.example.org:5349?transport=tcp'], secret: 'k', ttlSeconds: 3600 },
      { urls: 'turn:10.0.0.1', username: 'u', credential: 'p' },
    ]);
    const a = p.forConnection('c_a', 1_000_000);
    const b = p.forConnection('c_b', 1_000_000);
    expect(a[0]).toEqual({ urls: 'stun:stun.example.org' });
    expect(a[1]).toMatchObject({ urls: ['turn:turn.example.org:3478?transport=udp', 'turns:turn.example.org:5349?transport=tcp'], username: '4600:c_a' });
    expect(b[1]?.username).toBe('4600:c_b');
    expect(a[1]?.credential).not.toBe(b[1]?.credential);
    expect(a[2]).toEqual({ urls: 'turn:10.0.0.1', username: 'u', credential: 'p' });
  });

  it.each([
    ['not an array', { urls: 'stun:x' }, /must be an array/],
    ['no urls', [{}], /iceServers\[0\]\.urls/],
    ['an http URL', [{ urls: 'http://x' }], /not a stun:, turn: or turns: URL/],
    ['a TURN URL without credentials', [{ urls: 'turn:x' }], /needs credentials/],
    ['username without credential', [{ urls: 'turn:x', username: 'u' }], /both username and credential/],
    ['secret and static credentials', [{ urls: 'turn:x', secret: 's', username: 'u', credential: 'p' }], /either secret/],
    ['credentials on a STUN URL', [{ urls: 'stun:x', username: 'u', credential: 'p' }], /only for turn/],
    ['a TTL under a minute', [{ urls: 'turn:x', secret: 's', ttlSeconds: 5 }], /at least 60/],
    ['a port out of range', [{ urls: 'turn:x:70000', secret: 's' }], /port out of range/],
  ])('rejects %s with a TypeError naming the field', (_name, input, message) => {
    expect(() => createIceServerProvider(input as never)).toThrow(TypeError);
    expect(() => createIceServerProvider(input as never)).toThrow(message);
  });

  it('builds servers from CLI/env settings and refuses credentials without a TURN URL', () => {
    expect(iceServersFromSettings({})).toBeUndefined();
    expect(iceServersFromSettings({ stunUrls: 'stun:a:3478, stun:b', turnUrls: 'turn:t:3478', turnSecret: 'x', turnTtlSeconds: '600' })).toEqual([
      { urls: ['stun:a:3478', 'stun:b'] },
      { urls: ['turn:t:3478'], secret: 'x', ttlSeconds: 600 },
    ]);
    expect(() => iceServersFromSettings({ turnSecret: 'x' })).toThrow(/without a TURN URL/);
    expect(() => iceServersFromSettings({ turnUrls: 'turn:t', turnSecret: 'x', turnTtlSeconds: 'soon' })).toThrow(TypeError);
  });
});

describe('iceServers at connect', () => {
  let server: ConveneServer | undefined;
  const clients: TestClient[] = [];
  afterEach(async () => {
    await cleanup(server, clients);
    server = undefined;
  });

  it('startServer refuses an invalid iceServers option with a TypeError', async () => {
    await expect(startTestServer({ iceServers: [{ urls: 'turn:x' }] })).rejects.toThrow(TypeError);
  });

  it('the connect result carries no iceServers when none are configured, and mediaMode routed', async () => {
    server = await startTestServer({ media: false });
    const { c, result } = await join(server, 'plain');
    clients.push(c);
    expect(result.iceServers).toBeUndefined();
    expect(result.mediaMode).toBe('routed');
  });

  it('sends each connection fresh TURN credentials for its own connectionId, verifiable with the shared secret', async () => {
    server = await startTestServer({ media: false, iceServers: [{ urls: 'turn:198.51.100.7:3478?transport=udp', secret: 'shared', ttlSeconds: 600 }] });
    const before = Math.floor(Date.now() / 1000);
    const a = await join(server, 'ice');
    const b = await join(server, 'ice');
    clients.push(a.c, b.c);
    for (const { c, result } of [a, b]) {
      const [turn] = result.iceServers as { urls: string; username: string; credential: string }[];
      const [expiry, user] = turn!.username.split(':');
      expect(user).toBe(c.connectionId);
      expect(Number(expiry)).toBeGreaterThanOrEqual(before + 600);
      expect(Number(expiry)).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 600);
      expect(turn!.credential).toBe(createHmac('sha1', 'shared').update(turn!.username).digest('base64'));
    }
  });

  it('re-mints credentials in the resume result', async () => {
    server = await startTestServer({ media: false, iceServers: [{ urls: 'turn:198.51.100.7', username: 'u', credential: 'p' }] });
    const a = await join(server, 'ice resume');
    a.c.ws.terminate();
    await a.c.closed;
    const c2 = await TestClient.open(server);
    clients.push(c2);
    c2.lastSeq = a.c.lastSeq;
    c2.nextId = a.c.nextId;
    const r = (await c2.request('resume', { connectionId: a.c.connectionId, resumeToken: a.c.resumeToken, lastSeq: a.c.lastSeq })) as Frame & {
      result: { iceServers?: unknown };
    };
    expect(r.type).toBe('ok');
    expect(r.result.iceServers).toEqual([{ urls: 'turn:198.51.100.7', username: 'u', credential: 'p' }]);
  });
});
