// ICE-lite on hand-built STUN requests (RFC 5389/8445): what is answered, what is dropped, path selection,
// consent and DTLS timeouts, dual-stack sockets, and JS exceptions thrown from callbacks.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { isStun, stunType, verifyIntegrity } from '../../server/src/sfu/stun.js';
import { EVENT_FAILED, EVENT_ICE_CONNECTED, EVENT_PATH_CHANGED } from '../index.js';
import { bindingRequest, credentials, recordingEndpoint, type Recorded, rtpPacket, sleep, StunClient, until, xorMappedAddress } from './helpers.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const f of cleanups.splice(0).reverse()) f();
});

function endpoint(extra: Parameters<typeof recordingEndpoint>[0] = {}): Recorded {
  const r = recordingEndpoint(extra);
  cleanups.push(() => r.ep.close());
  return r;
}

async function client(family: 'udp4' | 'udp6' = 'udp4', address = '127.0.0.1'): Promise<{ c: StunClient; port: number }> {
  const c = new StunClient(family);
  cleanups.push(() => c.close());
  const port = await c.bind(address);
  return { c, port };
}

const FP = Array.from({ length: 32 }, () => 'AB').join(':');

/** Sends `req` and waits a little for an answer; returns it or undefined. */
async function exchange(c: StunClient, req: Buffer, port: number, address = '127.0.0.1'): Promise<Buffer | undefined> {
  const n = c.received.length;
  c.send(req, port, address);
  const end = Date.now() + 300;
  while (c.received.length === n && Date.now() < end) await sleep(5);
  return c.received[n];
}

describe('STUN Binding requests', () => {
  it('answers a valid request with XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY and FINGERPRINT', async () => {
    const r = endpoint();
    const { ufrag, pwd } = credentials();
    const id = r.ep.createConnection(ufrag, pwd, 'sha-256', FP, 'server');
    const { c, port } = await client();
    const req = bindingRequest({ username: `${ufrag}:remote`, key: pwd });
    const res = await exchange(c, req, r.ep.port);
    expect(res).toBeDefined();
    expect(isStun(res!)).toBe(true);
    expect(stunType(res!)).toBe(0x0101);
    expect(res!.subarray(8, 20).equals(req.subarray(8, 20))).toBe(true); // transaction id
    expect(xorMappedAddress(res!)).toBe(`127.0.0.1:${port}`);
    expect(verifyIntegrity(Buffer.from(res!), pwd)).toBe(true);
    expect(verifyIntegrity(Buffer.from(res!), 'wrong-password-xxxxxxxx')).toBe(false);
    // FINGERPRINT is the last attribute and matches.
    const { crc32 } = await import('node:zlib');
    expect(res!.readUInt16BE(res!.length - 8)).toBe(0x8028);
    expect(((crc32(res!.subarray(0, res!.length - 8)) ^ 0x5354554e) >>> 0) === res!.readUInt32BE(res!.length - 4)).toBe(true);
    expect(r.events).toEqual([{ id, event: EVENT_ICE_CONNECTED, detail: `127.0.0.1:${port}` }]);
    const stats = r.ep.getStats(id)!;
    expect(stats.state).toBe('ice-connected');
    expect(stats.stunRequests).toBe(1);
    expect(stats.remoteAddress).toBe(`127.0.0.1:${port}`);
  });

  it('drops requests that do not authenticate, and unknown ufrags', async () => {
    const r = endpoint();
    const { ufrag, pwd } = credentials();
    const id = r.ep.createConnection(ufrag, pwd, 'sha-256', FP, 'server');
    const { c } = await client();
    expect(await exchange(c, bindingRequest({ username: `${ufrag}:remote`, key: 'not-the-password-xxxxxx' }), r.ep.port)).toBeUndefined();
    expect(await exchange(c, bindingRequest({ username: `${ufrag}:remote`, key: pwd, integrity: false }), r.ep.port)).toBeUndefined();
    expect(await exchange(c, bindingRequest({ username: `nobody:remote`, key: pwd }), r.ep.port)).toBeUndefined();
    const corrupt = bindingRequest({ username: `${ufrag}:remote`, key: pwd });
    corrupt[corrupt.length - 1]! ^= 1; // FINGERPRINT
    expect(await exchange(c, corrupt, r.ep.port)).toBeUndefined();
    const truncated = bindingRequest({ username: `${ufrag}:remote`, key: pwd }).subarray(0, 40);
    expect(await exchange(c, truncated, r.ep.port)).toBeUndefined();
    expect(r.events).toEqual([]);
    expect(r.ep.getStats(id)!.stunRequests).toBe(0);
    // Still answers a good one afterwards; FINGERPRINT is optional.
    expect(await exchange(c, bindingRequest({ username: `${ufrag}:remote`, key: pwd, fingerprint: false }), r.ep.port)).toBeDefined();
  });

  it('accepts a zero ICE-CONTROLLING tiebreaker and ICE-CONTROLLED (lite: always controlled)', async () => {
    const r = endpoint();
    const { ufrag, pwd } = credentials();
    r.ep.createConnection(ufrag, pwd, 'sha-256', FP, 'server');
    const { c } = await client();
    expect(await exchange(c, bindingRequest({ username: `${ufrag}:r`, key: pwd, tiebreaker: 0n }), r.ep.port)).toBeDefined();
    expect(await exchange(c, bindingRequest({ username: `${ufrag}:r`, key: pwd, role: 'controlled', tiebreaker: 5n }), r.ep.port)).toBeDefined();
  });

  it('switches the selected address on USE-CANDIDATE from another validated address', async () => {
    const r = endpoint();
    const { ufrag, pwd } = credentials();
    const id = r.ep.createConnection(ufrag, pwd, 'sha-256', FP, 'server');
    const one = await client();
    const two = await client();
    await exchange(one.c, bindingRequest({ username: `${ufrag}:r`, key: pwd }), r.ep.port);
    await exchange(two.c, bindingRequest({ username: `${ufrag}:r`, key: pwd }), r.ep.port);
    expect(r.events.map((e) => e.event)).toEqual([EVENT_ICE_CONNECTED]);
    expect(r.ep.getStats(id)!.remoteAddress).toBe(`127.0.0.1:${one.port}`);
    await exchange(two.c, bindingRequest({ username: `${ufrag}:r`, key: pwd, useCandidate: true }), r.ep.port);
    expect(r.events.at(-1)).toEqual({ id, event: EVENT_PATH_CHANGED, detail: `127.0.0.1:${two.port}` });
    expect(r.ep.getStats(id)!.remoteAddress).toBe(`127.0.0.1:${two.port}`);
    // Nominating the selected address again changes nothing.
    await exchange(two.c, bindingRequest({ username: `${ufrag}:r`, key: pwd, useCandidate: true }), r.ep.port);
    expect(r.events.length).toBe(2);
    expect(r.ep.getStats(id)!.stunRequests).toBe(4);
  });

  it('serves IPv4 and IPv6 peers on a dual-stack socket', async () => {
    const r = endpoint({ ip: '::' });
    const { ufrag, pwd } = credentials();
    const id = r.ep.createConnection(ufrag, pwd, 'sha-256', FP, 'server');
    const v4 = await client('udp4');
    const res4 = await exchange(v4.c, bindingRequest({ username: `${ufrag}:r`, key: pwd }), r.ep.port);
    expect(xorMappedAddress(res4!)).toBe(`127.0.0.1:${v4.port}`);
    expect(r.events[0]).toEqual({ id, event: EVENT_ICE_CONNECTED, detail: `127.0.0.1:${v4.port}` });
    const v6 = await client('udp6', '::1');
    const res6 = await exchange(v6.c, bindingRequest({ username: `${ufrag}:r`, key: pwd, useCandidate: true }), r.ep.port, '::1');
    expect(xorMappedAddress(res6!)).toBe(`[::1]:${v6.port}`);
    expect(r.events[1]).toEqual({ id, event: EVENT_PATH_CHANGED, detail: `[::1]:${v6.port}` });
  });

  it('drops media and DTLS from addresses STUN has not validated', async () => {
    const r = endpoint();
    const { ufrag, pwd } = credentials();
    r.ep.createConnection(ufrag, pwd, 'sha-256', FP, 'server');
    const { c } = await client();
    c.send(rtpPacket(100, 1, 1), r.ep.port);
    c.send(Buffer.from([22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]), r.ep.port);
    c.send(Buffer.from([0xff, 1, 2, 3]), r.ep.port);
    await sleep(100);
    expect(r.events).toEqual([]);
    expect(r.packets).toEqual([]);
    expect(c.received).toEqual([]);
  });
});

describe('timeouts', () => {
  it('fails with "timeout" when nothing arrives for consentTimeoutMs, then ignores the peer', async () => {
    const r = endpoint({ consentTimeoutMs: 300 });
    const { ufrag, pwd } = credentials();
    const id = r.ep.createConnection(ufrag, pwd, 'sha-256', FP, 'server');
    const { c } = await client();
    await exchange(c, bindingRequest({ username: `${ufrag}:r`, key: pwd }), r.ep.port);
    // Consent checks keep it alive.
    for (let i = 0; i < 4; i++) {
      await sleep(150);
      await exchange(c, bindingRequest({ username: `${ufrag}:r`, key: pwd }), r.ep.port);
    }
    expect(r.events.map((e) => e.event)).toEqual([EVENT_ICE_CONNECTED]);
    await until(() => r.events.length === 2, 2000, 'timeout');
    expect(r.events[1]).toEqual({ id, event: EVENT_FAILED, detail: 'timeout' });
    expect(r.ep.getStats(id)!.state).toBe('failed');
    expect(await exchange(c, bindingRequest({ username: `${ufrag}:r`, key: pwd }), r.ep.port)).toBeUndefined();
  });

  it('fails with "dtls-timeout" when no handshake completes in dtlsTimeoutMs', async () => {
    for (const role of ['server', 'client'] as const) {
      const r = endpoint({ dtlsTimeoutMs: 300 });
      const { ufrag, pwd } = credentials();
      const id = r.ep.createConnection(ufrag, pwd, 'sha-256', FP, role);
      const { c } = await client();
      const t0 = Date.now();
      await exchange(c, bindingRequest({ username: `${ufrag}:r`, key: pwd }), r.ep.port);
      await until(() => r.events.length === 2, 2000, 'dtls-timeout');
      expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
      expect(r.events[1]).toEqual({ id, event: EVENT_FAILED, detail: 'dtls-timeout' });
      if (role === 'client') {
        // As the client it sent a ClientHello (and maybe retransmissions) to the validated address.
        expect(c.received.some((m) => m[0] === 22)).toBe(true);
      }
    }
  });
});

describe('JS exceptions in callbacks', () => {
  it('reach process "uncaughtException" and the endpoint carries on', () => {
    const script = `
      import { createSocket } from 'node:dgram';
      import { Endpoint } from ${JSON.stringify(fileURLToPath(new URL('../index.js', import.meta.url)))};
      import { createHmac } from 'node:crypto';
      import { crc32 } from 'node:zlib';
      function bindingRequest(username, key) {
        const u = Buffer.from(username);
        const attr = Buffer.alloc(4 + ((u.length + 3) & ~3));
        attr.writeUInt16BE(6, 0); attr.writeUInt16BE(u.length, 2); u.copy(attr, 4);
        const h = Buffer.alloc(20); h.writeUInt16BE(1, 0); h.writeUInt32BE(0x2112a442, 4); h.fill(7, 8);
        h.writeUInt16BE(attr.length + 24, 2);
        const mi = Buffer.alloc(24); mi.writeUInt16BE(8, 0); mi.writeUInt16BE(20, 2);
        createHmac('sha1', key).update(Buffer.concat([h, attr])).digest().copy(mi, 4);
        h.writeUInt16BE(attr.length + 32, 2);
        const fp = Buffer.alloc(8); fp.writeUInt16BE(0x8028, 0); fp.writeUInt16BE(4, 2);
        fp.writeUInt32BE((crc32(Buffer.concat([h, attr, mi])) ^ 0x5354554e) >>> 0, 4);
        return Buffer.concat([h, attr, mi, fp]);
      }
      const caught = [];
      process.on('uncaughtException', (e) => caught.push(e.message));
      const events = [];
      const ep = new Endpoint({ ip: '127.0.0.1', port: 0, recvBuffer: Buffer.alloc(2048), onPacket() {},
        consentTimeoutMs: 200,
        onEvent(id, ev, detail) { events.push(ev + ':' + detail.split(':')[0]); throw new Error('boom ' + ev); } });
      const fp = Array.from({ length: 32 }, () => 'AB').join(':');
      ep.createConnection('u1', 'pwpwpwpwpwpwpwpwpwpwpwpw', 'sha-256', fp, 'server');
      ep.createConnection('u2', 'pwpwpwpwpwpwpwpwpwpwpwpw', 'sha-256', fp, 'server');
      const s = createSocket('udp4');
      let answers = 0;
      s.on('message', () => answers++);
      s.bind(0, '127.0.0.1', () => {
        s.send(bindingRequest('u1:r', 'pwpwpwpwpwpwpwpwpwpwpwpw'), ep.port, '127.0.0.1');
        s.send(bindingRequest('u2:r', 'pwpwpwpwpwpwpwpwpwpwpwpw'), ep.port, '127.0.0.1');
      });
      setTimeout(() => {
        console.log(JSON.stringify({ caught, events, answers }));
        ep.close(); s.close();
      }, 600);
    `;
    const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 10000 });
    expect(out.stderr).toBe('');
    const result = JSON.parse(out.stdout.trim().split('\n').at(-1)!);
    expect(result.answers).toBe(2);
    // Both ICE events were delivered although each threw, then both timeouts (u1's path moved to u2: the address
    // is the same socket, so only u2 keeps it; u1 has no path left but still times out).
    expect(result.events.filter((e: string) => e.startsWith('1:'))).toHaveLength(2);
    expect(result.events.filter((e: string) => e === '4:timeout')).toHaveLength(2);
    expect(result.caught).toEqual(result.events.map((e: string) => `boom ${e.split(':')[0]}`));
  });
});
