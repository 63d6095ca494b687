// The endpoint against real WebRTC peers: node-datachannel bots (libjuice full ICE as the controlling offerer,
// libdatachannel DTLS, libsrtp), with hand-written ICE-lite answers.
import { afterEach, describe, expect, it } from 'vitest';
import { EVENT_CLOSED, EVENT_DTLS_CONNECTED, EVENT_FAILED, EVENT_ICE_CONNECTED } from '../index.js';
import {
  answerSdp,
  BOT_SSRC,
  type Bot,
  credentials,
  linkEndpoints,
  makeBot,
  Proxy,
  recordingEndpoint,
  type Recorded,
  rtpPacket,
  senderReport,
  SFU_SSRC,
  sleep,
  until,
} from './helpers.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const f of cleanups.splice(0).reverse()) f();
});

function endpoint(extra: Parameters<typeof recordingEndpoint>[0] = {}): Recorded {
  const r = recordingEndpoint(extra);
  cleanups.push(() => r.ep.close());
  return r;
}

async function bot(): Promise<Bot> {
  const b = await makeBot();
  cleanups.push(() => b.close());
  return b;
}

/** Creates the connection for `b`, gives it the answer and waits until both sides are connected. */
async function connect(r: Recorded, b: Bot, o: { role?: 'server' | 'client'; port?: number } = {}): Promise<number> {
  const role = o.role ?? 'server';
  const { ufrag, pwd } = credentials();
  const id = r.ep.createConnection(ufrag, pwd, b.fingerprintAlgorithm, b.fingerprint, role);
  const open = new Promise<void>((resolve) => b.track.onOpen(resolve));
  b.pc.setRemoteDescription(answerSdp({ port: o.port ?? r.ep.port, ufrag, pwd, fingerprint: r.ep.fingerprint, setup: role === 'server' ? 'passive' : 'active' }), 'answer');
  await until(() => r.events.some((e) => e.id === id && (e.event === EVENT_DTLS_CONNECTED || e.event === EVENT_FAILED)), 10000, 'DTLS');
  await open;
  return id;
}

describe('Endpoint with a node-datachannel peer', () => {
  for (const role of ['server', 'client'] as const) {
    it(`connects as the DTLS ${role} and carries SRTP and SRTCP both ways`, async () => {
      const r = endpoint();
      const b = await bot();
      const id = await connect(r, b, { role });
      expect(id).toBeGreaterThanOrEqual(1);
      const mine = r.events.filter((e) => e.id === id);
      expect(mine.map((e) => e.event)).toEqual([EVENT_ICE_CONNECTED, EVENT_DTLS_CONNECTED]);
      expect(mine[0]!.detail).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(mine[1]!.detail).toMatch(/^SRTP_(AEAD_AES_(128|256)_GCM|AES128_CM_SHA1_(80|32))$/);
      if (role === 'server') expect(mine[1]!.detail).toBe('SRTP_AEAD_AES_128_GCM'); // our preference wins

      // Bot → endpoint: decrypted, byte-identical.
      const sent = [rtpPacket(1000, 1, BOT_SSRC), rtpPacket(120, 2, BOT_SSRC), rtpPacket(1200, 3, BOT_SSRC)];
      for (const p of sent) b.track.sendMessageBinary(p);
      await until(() => r.packets.length >= 3, 5000, 'RTP at the endpoint');
      expect(r.packets.map((p) => p.id)).toEqual([id, id, id]);
      expect(r.packets.map((p) => p.data.equals(sent[r.packets.indexOf(p)]!))).toEqual([true, true, true]);

      // Endpoint → bot: RTP and RTCP (a Sender Report from our SSRC).
      const out = rtpPacket(900, 7, SFU_SSRC);
      const sr = senderReport(SFU_SSRC);
      expect(r.ep.send(id, out)).toBe(true);
      expect(r.ep.send(id, sr)).toBe(true);
      await until(() => b.received.length >= 2, 5000, 'RTP and RTCP at the bot');
      expect(b.received.some((m) => m.equals(out))).toBe(true);
      expect(b.received.some((m) => m.equals(sr))).toBe(true);

      const stats = r.ep.getStats(id)!;
      expect(stats.state).toBe('connected');
      expect(stats.remoteAddress).toBe(mine[0]!.detail);
      expect(stats.profile).toBe(mine[1]!.detail);
      expect(stats.packetsReceived).toBe(3);
      expect(stats.packetsSent).toBe(2);
      expect(stats.bytesSent).toBeGreaterThan(900 + 28);
      expect(stats.srtpErrors).toBe(0);
      expect(stats.stunRequests).toBeGreaterThanOrEqual(1);
    });
  }

  it('batches sends made inside onPacket (fan-out) and delivers them all', async () => {
    const r = endpoint();
    const b = await bot();
    const id = await connect(r, b);
    // Echo every packet 100 times, rewritten to our SSRC: 100 sends queued in one dispatch.
    r.onPacket = (conn, data) => {
      for (let i = 0; i < 100; i++) {
        const p = Buffer.from(data);
        p.writeUInt32BE(SFU_SSRC, 8);
        p.writeUInt16BE(i, 2);
        expect(r.ep.send(conn, p)).toBe(true);
      }
    };
    b.track.sendMessageBinary(rtpPacket(200, 1, BOT_SSRC));
    await until(() => b.received.length >= 100, 5000, '100 echoes');
    expect(new Set(b.received.map((m) => m.readUInt16BE(2))).size).toBe(100);
    expect(r.ep.getStats(id)!.sendErrors).toBe(0);
  });

  it('runs process.nextTick callbacks and microtasks right after a dispatch', async () => {
    const r = endpoint();
    const b = await bot();
    await connect(r, b);
    const order: string[] = [];
    r.onPacket = () => {
      process.nextTick(() => order.push('tick'));
      void Promise.resolve().then(() => order.push('microtask'));
      setImmediate(() => order.push('immediate'));
    };
    b.track.sendMessageBinary(rtpPacket(200, 1, BOT_SSRC));
    await until(() => order.length === 3, 5000, 'callbacks');
    expect(order).toEqual(['tick', 'microtask', 'immediate']);
  });

  it('fails with fingerprint-mismatch when the peer certificate is not the announced one', async () => {
    for (const role of ['server', 'client'] as const) {
      const r = endpoint();
      const b = await bot();
      const { ufrag, pwd } = credentials();
      const wrong = b.fingerprint.replace(/^../, b.fingerprint.startsWith('00') ? '11' : '00');
      const id = r.ep.createConnection(ufrag, pwd, 'sha-256', wrong, role);
      b.pc.setRemoteDescription(answerSdp({ port: r.ep.port, ufrag, pwd, fingerprint: r.ep.fingerprint, setup: role === 'server' ? 'passive' : 'active' }), 'answer');
      await until(() => r.events.some((e) => e.event === EVENT_FAILED), 10000, 'failure');
      expect(r.events.map((e) => [e.id, e.event, e.event === EVENT_FAILED ? e.detail : ''])).toEqual([
        [id, EVENT_ICE_CONNECTED, ''],
        [id, EVENT_FAILED, 'fingerprint-mismatch'],
      ]);
      expect(r.ep.getStats(id)!.state).toBe('failed');
      expect(r.ep.send(id, rtpPacket(100, 1, SFU_SSRC))).toBe(false);
    }
  });

  it('accepts the other fingerprint algorithms', async () => {
    const r = endpoint();
    const b = await bot();
    // The bot announces sha-256; compute its sha-512 from the same certificate is not possible from SDP alone,
    // so check that sha-512/sha-384/sha-1 strings of the right length are accepted and wrong lengths rejected.
    const hex = (n: number) => Array.from({ length: n }, () => 'AB').join(':');
    expect(r.ep.createConnection('a1', 'pwpwpwpwpwpwpwpwpwpwpwpw', 'sha-1', hex(20), 'server')).toBeGreaterThan(0);
    expect(r.ep.createConnection('a2', 'pwpwpwpwpwpwpwpwpwpwpwpw', 'SHA-384', hex(48), 'server')).toBeGreaterThan(0);
    expect(r.ep.createConnection('a3', 'pwpwpwpwpwpwpwpwpwpwpwpw', 'sha-512', hex(64), 'client')).toBeGreaterThan(0);
    expect(() => r.ep.createConnection('a4', 'pwpwpwpwpwpwpwpwpwpwpwpw', 'sha-512', hex(32), 'server')).toThrow(TypeError);
    expect(() => r.ep.createConnection('a5', 'pwpwpwpwpwpwpwpwpwpwpwpw', 'md5', hex(16), 'server')).toThrow(TypeError);
    b.close();
  });

  it('reports the peer close_notify (SSL held, and after it was freed), between two endpoints', async () => {
    // libdatachannel does not send close_notify when it closes, so the peer here is another endpoint (client role).
    for (const ttl of [60000, 1]) {
      const a = endpoint({ dtlsStateTtlMs: ttl });
      const b = endpoint({ dtlsStateTtlMs: ttl });
      const { idA, idB, relay } = await linkEndpoints(a, b);
      cleanups.push(() => relay.close());
      await until(() => a.events.some((e) => e.event === EVENT_DTLS_CONNECTED) && b.events.some((e) => e.event === EVENT_DTLS_CONNECTED), 5000, 'DTLS');
      expect(a.events.map((e) => e.event)).toEqual([EVENT_ICE_CONNECTED, EVENT_DTLS_CONNECTED]);
      expect(b.events.map((e) => e.event)).toEqual([EVENT_ICE_CONNECTED, EVENT_DTLS_CONNECTED]);
      expect(a.events[1]!.detail).toBe('SRTP_AEAD_AES_128_GCM');
      await sleep(150); // ttl 1: the next timer tick frees the SSL objects
      expect(a.ep.getStats(idA)!.dtlsStateHeld).toBe(ttl !== 1);
      expect(b.ep.getStats(idB)!.dtlsStateHeld).toBe(ttl !== 1);
      // Media both ways.
      expect(a.ep.send(idA, rtpPacket(400, 1, SFU_SSRC))).toBe(true);
      expect(b.ep.send(idB, senderReport(BOT_SSRC))).toBe(true);
      await until(() => a.packets.length === 1 && b.packets.length === 1, 2000, 'media');
      expect(b.packets[0]!.data.equals(rtpPacket(400, 1, SFU_SSRC))).toBe(true);
      expect(a.packets[0]!.data.equals(senderReport(BOT_SSRC))).toBe(true);
      a.ep.closeConnection(idA);
      await until(() => b.events.some((e) => e.event === EVENT_CLOSED), 2000, `EVENT_CLOSED (ttl ${ttl})`);
      expect(b.events.at(-1)).toEqual({ id: idB, event: EVENT_CLOSED, detail: 'close_notify' });
      expect(b.ep.getStats(idB)!.state).toBe('closed');
      expect(b.ep.send(idB, rtpPacket(100, 1, BOT_SSRC))).toBe(false);
    }
  });

  it('sends close_notify on closeConnection (SSL held, and after it was freed)', async () => {
    for (const ttl of [60000, 1]) {
      const r = endpoint({ dtlsStateTtlMs: ttl });
      const b = await bot();
      const id = await connect(r, b);
      await sleep(150);
      const closed = new Promise<void>((resolve) => b.track.onClosed(resolve));
      r.ep.closeConnection(id);
      await Promise.race([closed, sleep(5000).then(() => Promise.reject(new Error(`bot track not closed (ttl ${ttl})`)))]);
      expect(r.ep.getStats(id)).toBeUndefined();
      expect(r.ep.send(id, rtpPacket(100, 1, SFU_SSRC))).toBe(false);
    }
  });

  it('keeps working with media after the SSL is freed', async () => {
    const r = endpoint({ dtlsStateTtlMs: 1 });
    const b = await bot();
    const id = await connect(r, b);
    await sleep(200);
    expect(r.ep.getStats(id)!.dtlsStateHeld).toBe(false);
    b.track.sendMessageBinary(rtpPacket(500, 1, BOT_SSRC));
    expect(r.ep.send(id, rtpPacket(500, 1, SFU_SSRC))).toBe(true);
    await until(() => r.packets.length === 1 && b.received.length === 1, 5000, 'media');
  });

  it('answers a retransmitted client flight when our final flight was lost (SSL held, and after it was freed)', async () => {
    for (const ttl of [60000, 1]) {
      const r = endpoint({ dtlsStateTtlMs: ttl });
      const b = await bot();
      // Drop our first datagram starting with a ChangeCipherSpec record: the server's final flight.
      let droppedFlight = false;
      const proxy = new Proxy(r.ep.port, (m) => {
        if (m[0] === 20 && !droppedFlight) return (droppedFlight = true);
        return false;
      });
      cleanups.push(() => proxy.close());
      const port = await proxy.start();
      const id = await connect(r, b, { port });
      expect(proxy.dropped).toBe(1);
      expect(r.ep.getStats(id)!.dtlsStateHeld).toBe(ttl !== 1);
      expect(proxy.fromEndpoint.filter((m) => m[0] === 20).length).toBeGreaterThanOrEqual(2);
      b.track.sendMessageBinary(rtpPacket(300, 1, BOT_SSRC));
      expect(r.ep.send(id, rtpPacket(300, 1, SFU_SSRC))).toBe(true);
      await until(() => r.packets.length === 1 && b.received.length === 1, 5000, `media (ttl ${ttl})`);
    }
  });
});

describe('Endpoint lifecycle and arguments', () => {
  it('survives closeConnection() and close() called from inside its callbacks', async () => {
    const r = endpoint();
    const b1 = await bot();
    r.onEvent = (id, ev) => {
      if (ev === EVENT_DTLS_CONNECTED) r.ep.closeConnection(id);
    };
    const { ufrag, pwd } = credentials();
    const id = r.ep.createConnection(ufrag, pwd, b1.fingerprintAlgorithm, b1.fingerprint, 'server');
    b1.pc.setRemoteDescription(answerSdp({ port: r.ep.port, ufrag, pwd, fingerprint: r.ep.fingerprint }), 'answer');
    await until(() => r.events.some((e) => e.event === EVENT_DTLS_CONNECTED), 5000, 'DTLS');
    expect(r.ep.getStats(id)).toBeUndefined();
    r.onEvent = undefined;

    const b2 = await bot();
    const id2 = await connect(r, b2);
    expect(id2).toBe(id); // reused
    expect(r.events.filter((e) => e.id === id).map((e) => e.event)).toEqual([
      EVENT_ICE_CONNECTED,
      EVENT_DTLS_CONNECTED,
      EVENT_ICE_CONNECTED,
      EVENT_DTLS_CONNECTED,
    ]);
    r.onPacket = () => r.ep.close();
    for (let i = 0; i < 5; i++) b2.track.sendMessageBinary(rtpPacket(200, i, BOT_SSRC));
    await sleep(300);
    expect(r.packets.length).toBe(1);
    expect(r.ep.send(id2, rtpPacket(100, 1, SFU_SSRC))).toBe(false);
  });

  it('throws when the port is in use', () => {
    const r = endpoint();
    let err: (Error & { code?: string }) | undefined;
    try {
      endpoint({ port: r.ep.port });
    } catch (e) {
      err = e as Error;
    }
    expect(err).toBeInstanceOf(Error);
    expect(err!.code).toBe('EADDRINUSE');
    expect(err!.message).toMatch(/in use/i);
  });

  it('validates options and arguments', () => {
    expect(() => endpoint({ ip: 'nope' })).toThrow(TypeError);
    expect(() => endpoint({ recvBuffer: Buffer.alloc(100) })).toThrow(TypeError);
    expect(() => endpoint({ port: 70000 })).toThrow(TypeError);
    expect(() => endpoint({ consentTimeoutMs: -1 })).toThrow(TypeError);
    const r = endpoint();
    expect(r.ep.port).toBeGreaterThan(0);
    expect(r.ep.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const fp = Array.from({ length: 32 }, () => 'ab').join(':');
    const create = (...args: unknown[]) => (r.ep.createConnection as (...a: unknown[]) => number)(...args);
    expect(() => create('', 'pwpwpwpwpwpwpwpwpwpwpwpw', 'sha-256', fp, 'server')).toThrow(TypeError);
    expect(() => create('u', '', 'sha-256', fp, 'server')).toThrow(TypeError);
    expect(() => create('u', 'pwpwpwpwpwpwpwpwpwpwpwpw', 'sha-256', 'zz', 'server')).toThrow(TypeError);
    expect(() => create('u', 'pwpwpwpwpwpwpwpwpwpwpwpw', 'sha-256', fp, 'both')).toThrow(TypeError);
    expect(() => create(1, 2, 3, 4, 5)).toThrow(TypeError);
    expect(create('u', 'pwpwpwpwpwpwpwpwpwpwpwpw', 'sha-256', fp, 'server')).toBe(1);
    expect(() => create('u', 'pwpwpwpwpwpwpwpwpwpwpwpw', 'sha-256', fp, 'server')).toThrow(TypeError); // ufrag in use
  });

  it('reuses small ids and ignores unknown ones', () => {
    const r = endpoint();
    const fp = Array.from({ length: 32 }, () => 'AB').join(':');
    const ids = ['a', 'b', 'c'].map((u) => r.ep.createConnection(u, 'pwpwpwpwpwpwpwpwpwpwpwpw', 'sha-256', fp, 'server'));
    expect(ids).toEqual([1, 2, 3]);
    r.ep.closeConnection(2);
    expect(r.ep.getStats(2)).toBeUndefined();
    expect(r.ep.getStats(1)!.state).toBe('new');
    expect(r.ep.createConnection('d', 'pwpwpwpwpwpwpwpwpwpwpwpw', 'sha-256', fp, 'server')).toBe(2);
    // Unknown ids and junk: harmless.
    const anyEp = r.ep as unknown as Record<string, (...a: unknown[]) => unknown>;
    for (const bad of [0, 99, -1, 2 ** 40, NaN, 'x', undefined, null, {}]) {
      expect(anyEp.send!(bad, rtpPacket(100, 1, 1))).toBe(false);
      expect(() => anyEp.closeConnection!(bad)).not.toThrow();
      expect(anyEp.getStats!(bad)).toBeUndefined();
    }
    expect(anyEp.send!(1, 'not bytes')).toBe(false);
    expect(anyEp.send!(1)).toBe(false);
    expect(r.ep.send(1, rtpPacket(100, 1, 1))).toBe(false); // not keyed
    expect(r.ep.send(1, new Uint8Array(3000))).toBe(false);
  });

  it('close() is idempotent and makes send() return false', async () => {
    const r = endpoint();
    const b = await bot();
    const id = await connect(r, b);
    expect(r.ep.send(id, rtpPacket(100, 1, SFU_SSRC))).toBe(true);
    const closed = new Promise<void>((resolve) => b.track.onClosed(resolve));
    r.ep.close();
    r.ep.close();
    expect(r.ep.send(id, rtpPacket(100, 2, SFU_SSRC))).toBe(false);
    expect(r.ep.getStats(id)).toBeUndefined();
    expect(() => r.ep.createConnection('x', 'pwpwpwpwpwpwpwpwpwpwpwpw', 'sha-256', b.fingerprint, 'server')).toThrow(Error);
    await Promise.race([closed, sleep(5000).then(() => Promise.reject(new Error('bot not told')))]);
    // The port is free again.
    const again = endpoint({ port: r.ep.port });
    expect(again.ep.port).toBe(r.ep.port);
  });
});
