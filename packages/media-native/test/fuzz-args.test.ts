// Hostile JS arguments to every method of Endpoint: wrong types, NaN/negative/fractional/huge ids, non-buffers,
// detached and resizable ArrayBuffers, zero-length views, SharedArrayBuffer views, wrong receivers. Each call
// throws a TypeError (an Error once closed) or returns false/undefined: never a crash, never another connection.
import { afterEach, describe, expect, it } from 'vitest';
import { Endpoint, EVENT_DTLS_CONNECTED, type EndpointOptions } from '../index.js';
import { BOT_SSRC, linkEndpoints, recordingEndpoint, type Recorded, rtpPacket, senderReport, SFU_SSRC, sleep, until } from './helpers.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const f of cleanups.splice(0).reverse()) f();
});

function endpoint(extra: Partial<EndpointOptions> = {}): Recorded {
  const r = recordingEndpoint(extra);
  cleanups.push(() => r.ep.close());
  return r;
}

const FP = Array.from({ length: 32 }, () => 'AB').join(':');
const PWD = 'pwpwpwpwpwpwpwpwpwpwpwpw';
const noop = (): void => {};

/** A short label for any value (String() throws for symbols and detached typed arrays). */
function label(v: unknown): string {
  if (typeof v === 'symbol') return 'symbol';
  if (typeof v === 'bigint') return `${v}n`;
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${v.byteLength})`;
  try {
    return String(v).slice(0, 40);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

type ResizableArrayBuffer = ArrayBuffer & { resize(n: number): void };
/** A resizable ArrayBuffer (ES2024; Node 20 has it, our TypeScript lib does not). */
function resizable(n: number, max: number): ResizableArrayBuffer {
  return new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ResizableArrayBuffer)(n, { maxByteLength: max });
}

function detached(n = 4096): Uint8Array {
  const ab = new ArrayBuffer(n);
  const u = new Uint8Array(ab);
  structuredClone(ab, { transfer: [ab] });
  expect(u.length).toBe(0);
  return u;
}

/** Two endpoints keyed with each other (a: server, b: client), ready for media. */
async function linked(extraA: Partial<EndpointOptions> = {}): Promise<{ a: Recorded; b: Recorded; idA: number; idB: number }> {
  const a = endpoint(extraA);
  const b = endpoint();
  const { idA, idB, relay } = await linkEndpoints(a, b);
  cleanups.push(() => relay.close());
  await until(() => [a, b].every((r) => r.events.some((e) => e.event === EVENT_DTLS_CONNECTED)), 5000, 'DTLS');
  return { a, b, idA, idB };
}

// Ids that are not a connection's, whatever ToUint32 would make of them (2**32 + 1 is 1 modulo 2**32).
const BAD_IDS: unknown[] = [0, -1, -0.5, 0.5, 1.5, 1 + 1e-9, NaN, Infinity, -Infinity, 2 ** 32, 2 ** 32 + 1, 2 ** 53, -(2 ** 32) + 1, Number.MAX_VALUE, Number.MIN_VALUE, 1n, '1', ' 1', [1], { valueOf: () => 1 }, null, undefined, true, Symbol('x'), () => 1];

describe('hostile JS arguments', () => {
  it('constructor: every bad option is a TypeError (getters that throw propagate), nothing is bound', () => {
    const base = (): Record<string, unknown> => ({ ip: '127.0.0.1', port: 0, recvBuffer: new Uint8Array(2048), onPacket: noop, onEvent: noop });
    const bad: Array<[string, unknown]> = [
      ['ip', undefined],
      ['ip', 1],
      ['ip', ''],
      ['ip', '1.2.3.4.5'],
      ['ip', '127.0.0.1\u0000evil'],
      ['ip', 'x'.repeat(100000)],
      ['ip', Symbol('ip')],
      ['ip', { toString: () => '127.0.0.1' }],
      ['port', NaN],
      ['port', -1],
      ['port', 1.5],
      ['port', 65536],
      ['port', Infinity],
      ['port', '0'],
      ['port', 2 ** 53],
      ['port', 0n],
      ['recvBuffer', undefined],
      ['recvBuffer', new ArrayBuffer(4096)],
      ['recvBuffer', new DataView(new ArrayBuffer(4096))],
      ['recvBuffer', new Uint16Array(2048)],
      ['recvBuffer', new Int8Array(4096)],
      ['recvBuffer', new Float64Array(1024)],
      ['recvBuffer', new Uint8Array(0)],
      ['recvBuffer', new Uint8Array(2047)],
      ['recvBuffer', detached()],
      ['recvBuffer', 'x'.repeat(4096)],
      ['recvBuffer', Array.from({ length: 4096 }, () => 0)],
      ['onPacket', undefined],
      ['onPacket', 'function'],
      ['onEvent', null],
      ['onEvent', {}],
      ['consentTimeoutMs', 0],
      ['consentTimeoutMs', -1],
      ['consentTimeoutMs', NaN],
      ['consentTimeoutMs', Infinity],
      ['consentTimeoutMs', 2 ** 32],
      ['consentTimeoutMs', '5000'],
      ['consentTimeoutMs', null],
      ['dtlsTimeoutMs', -0],
      ['dtlsStateTtlMs', 1n],
    ];
    for (const [k, v] of bad) {
      expect(() => new Endpoint({ ...base(), [k]: v } as unknown as EndpointOptions), `${k}: ${label(v)}`).toThrow(TypeError);
    }
    for (const opts of [undefined, null, 1, 'x', [], () => {}, Symbol('o')]) {
      expect(() => new (Endpoint as unknown as new (o: unknown) => unknown)(opts)).toThrow(TypeError);
    }
    expect(() => (Endpoint as unknown as (o: unknown) => unknown)(base())).toThrow(TypeError);
    // Getters and proxies that throw: their error, nothing else.
    const boom = new Error('boom');
    const getterThrows = { ...base() };
    Object.defineProperty(getterThrows, 'port', {
      get() {
        throw boom;
      },
    });
    expect(() => new Endpoint(getterThrows as unknown as EndpointOptions)).toThrow(boom);
    const proxy = new Proxy(base(), {
      get(t, p) {
        if (p === 'recvBuffer') throw boom;
        return (t as Record<string | symbol, unknown>)[p];
      },
    });
    expect(() => new Endpoint(proxy as unknown as EndpointOptions)).toThrow(boom);
    for (const name of ['consentTimeoutMs', 'dtlsTimeoutMs', 'dtlsStateTtlMs']) {
      const o = { ...base() };
      Object.defineProperty(o, name, {
        get() {
          throw boom;
        },
      });
      expect(() => new Endpoint(o as unknown as EndpointOptions)).toThrow(boom);
    }
    // Accepted oddities: a pooled Buffer slice, Uint8ClampedArray, a SharedArrayBuffer view, a resizable buffer, -0, a subclass.
    for (const recvBuffer of [Buffer.allocUnsafe(2048), new Uint8ClampedArray(2048) as unknown as Uint8Array, new Uint8Array(new SharedArrayBuffer(4096)), new Uint8Array(resizable(4096, 8192))]) {
      const ep = new Endpoint({ ...(base() as unknown as EndpointOptions), recvBuffer });
      ep.close();
    }
    new Endpoint({ ...(base() as unknown as EndpointOptions), port: -0 }).close();
    class Sub extends Endpoint {}
    const sub = new Sub(base() as unknown as EndpointOptions);
    expect(sub.port).toBeGreaterThan(0);
    sub.close();
  });

  it('methods on the wrong receiver throw a TypeError', () => {
    const r = endpoint();
    const proto = Endpoint.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
    const fake = Object.create(Endpoint.prototype);
    for (const self of [undefined, null, {}, fake, 1, 'x', Endpoint, Endpoint.prototype, new Uint8Array(8)]) {
      expect(() => proto.createConnection!.call(self, 'u', PWD, 'sha-256', FP, 'server')).toThrow(TypeError);
      expect(() => proto.closeConnection!.call(self, 1)).toThrow(TypeError);
      expect(() => proto.getStats!.call(self, 1)).toThrow(TypeError);
      expect(() => proto.close!.call(self)).toThrow(TypeError);
    }
    // send is bound to its endpoint: another receiver does not matter.
    const send = r.ep.send;
    expect(send.call(undefined, 1, rtpPacket(100, 1, 1))).toBe(false);
    expect(send.call({}, 1, rtpPacket(100, 1, 1))).toBe(false);
    expect(r.ep.port).toBeGreaterThan(0);
  });

  it('createConnection: bad arguments are TypeErrors, and an Error once closed', () => {
    const r = endpoint();
    const create = (...args: unknown[]): unknown => (r.ep.createConnection as (...a: unknown[]) => number)(...args);
    const good = ['u', PWD, 'sha-256', FP, 'server'];
    const variants: Array<[number, unknown]> = [
      [0, undefined],
      [0, ''],
      [0, 'a:b'],
      [0, ':'],
      [0, 'u'.repeat(257)],
      [0, 'u'.repeat(1 << 20)],
      [0, 7],
      [0, { toString: () => 'u' }],
      [0, Symbol('u')],
      [1, ''],
      [1, 'p'.repeat(257)],
      [1, null],
      [2, 'md5'],
      [2, 'sha256'],
      [2, ''],
      [2, 'sha-256\u0000'],
      [3, ''],
      [3, FP.slice(0, -1)],
      [3, FP + ':AB'],
      [3, FP.replace(/:/g, '-')],
      [3, FP.replace('AB', 'GG')],
      [3, FP.replace('AB', '\u00c0\u00c0')],
      [3, 'AB'.repeat(32)],
      [3, 12345],
      [4, 'Server'],
      [4, ''],
      [4, 'both'],
      [4, undefined],
    ];
    for (const [i, v] of variants) {
      const args: unknown[] = [...good];
      args[i] = v;
      expect(() => create(...args), `arg ${i}: ${label(v)}`).toThrow(TypeError);
    }
    expect(() => create()).toThrow(TypeError);
    expect(() => create('u', PWD, 'sha-256', FP)).toThrow(TypeError);
    // Accepted: any case, extra arguments, any unicode in the credentials.
    expect(create('u', PWD, 'SHA-256', FP.toLowerCase(), 'client', 'extra', {})).toBe(1);
    expect(create('\u00e9\u{1f600}\u0000', '\u0000'.repeat(256), 'sha-1', Array.from({ length: 20 }, () => 'ff').join(':'), 'server')).toBe(2);
    // Thousands of connections, closed again: ids are reused.
    const ids: number[] = [];
    for (let i = 0; i < 5000; i++) ids.push(r.ep.createConnection(`n${i}`, PWD, 'sha-256', FP, i % 2 ? 'client' : 'server'));
    expect(Math.max(...ids)).toBe(5002);
    for (const id of ids) r.ep.closeConnection(id);
    expect(r.ep.createConnection('again', PWD, 'sha-256', FP, 'server')).toBe(3);
    r.ep.close();
    expect(() => create('z', PWD, 'sha-256', FP, 'server')).toThrow(Error);
  });

  it('send/getStats/closeConnection: ids that are not exactly a connection id never reach one', async () => {
    const { a, b, idA, idB } = await linked();
    expect(idA).toBe(1);
    const pkt = rtpPacket(200, 1, SFU_SSRC);
    const anyEp = a.ep as unknown as Record<string, (...x: unknown[]) => unknown>;
    for (const bad of BAD_IDS) {
      expect(anyEp.send!(bad, pkt), `send(${label(bad)})`).toBe(false);
      expect(anyEp.getStats!(bad), `getStats(${label(bad)})`).toBeUndefined();
      expect(() => anyEp.closeConnection!(bad), `closeConnection(${label(bad)})`).not.toThrow();
    }
    // Nothing above touched connection 1.
    expect(a.ep.getStats(idA)).toMatchObject({ state: 'connected', packetsSent: 0 });
    expect(b.packets).toEqual([]);
    expect(a.ep.send(idA, pkt)).toBe(true);
    await until(() => b.packets.length === 1, 2000, 'media');
    expect(b.ep.getStats(idB)!.packetsReceived).toBe(1);
  });

  it('send: packets that are not a byte view of a valid RTP/RTCP packet are refused', async () => {
    const { a, b, idA } = await linked();
    const anyEp = a.ep as unknown as Record<string, (...x: unknown[]) => unknown>;
    const rtp = rtpPacket(100, 1, SFU_SSRC);
    const sab = new Uint8Array(new SharedArrayBuffer(200));
    sab.set(rtpPacket(100, 2, SFU_SSRC));
    const rab = resizable(200, 400);
    const tracking = new Uint8Array(rab);
    tracking.set(rtpPacket(100, 3, SFU_SSRC));
    const badPackets: unknown[] = [
      undefined,
      null,
      'x'.repeat(100),
      Array.from(rtp),
      rtp.buffer,
      new DataView(rtp.buffer, rtp.byteOffset, rtp.length),
      new Uint16Array(50),
      new Int8Array(100),
      new Float32Array(25),
      new BigUint64Array(13),
      new Uint8Array(0),
      Buffer.alloc(0),
      new Uint8Array(7),
      detached(200),
      new Uint8Array(2000),
      Buffer.alloc(1517, 0x80),
      rtp.subarray(0, 7),
      { length: 100, 0: 0x80 },
    ];
    for (const p of badPackets) expect(anyEp.send!(idA, p), label(p)).toBe(false);
    expect(anyEp.send!(idA)).toBe(false);
    expect(anyEp.send!()).toBe(false);
    // Version bits other than 2.
    const v1 = Buffer.from(rtp);
    v1[0] = 0x40;
    expect(a.ep.send(idA, v1)).toBe(false);
    // Accepted: a SharedArrayBuffer view, a resizable buffer view, a Uint8ClampedArray, a view at an odd offset, the largest size.
    const odd = new Uint8Array(rtp.length + 3);
    odd.set(rtpPacket(100, 4, SFU_SSRC), 3);
    const ok: Uint8Array[] = [sab.subarray(0, 100), tracking.subarray(0, 100), new Uint8ClampedArray(rtpPacket(100, 5, SFU_SSRC)) as unknown as Uint8Array, odd.subarray(3), rtpPacket(1516, 6, SFU_SSRC)];
    for (const p of ok) expect(a.ep.send(idA, p)).toBe(true);
    // A resizable buffer shrunk to nothing: a zero-length view.
    rab.resize(0);
    expect(a.ep.send(idA, tracking)).toBe(false);
    await until(() => b.packets.length === ok.length, 2000, 'media');
    expect(a.ep.getStats(idA)!.packetsSent).toBe(ok.length);
  });

  it('a receive buffer detached or shrunk after construction: packets are dropped, nothing is written', async () => {
    for (const how of ['detach', 'resize'] as const) {
      const rab = how === 'resize' ? resizable(4096, 1 << 20) : new ArrayBuffer(4096);
      const recv = new Uint8Array(rab);
      const got: number[] = [];
      const { a, b, idA, idB } = await linked({ recvBuffer: recv, onPacket: (_id: number, len: number) => got.push(len) } as Partial<EndpointOptions>);
      // recordingEndpoint's own buffer was replaced by ours: packets arrive as lengths only.
      expect(b.ep.send(idB, rtpPacket(300, 1, BOT_SSRC))).toBe(true);
      await until(() => got.length === 1, 2000, 'first packet');
      if (how === 'detach') {
        structuredClone(rab, { transfer: [rab] });
      } else {
        (rab as ResizableArrayBuffer).resize(0);
      }
      expect(recv.length).toBe(0);
      for (let i = 2; i < 50; i++) expect(b.ep.send(idB, i % 2 ? rtpPacket(1200, i, BOT_SSRC) : senderReport(BOT_SSRC))).toBe(true);
      await sleep(200);
      expect(got.length).toBe(1);
      expect(a.ep.getStats(idA)!.state).toBe('connected');
      // A fresh endpoint with a fresh buffer still works in this process.
      a.ep.close();
    }
  });

  it('callbacks that close, recreate and reenter during a dispatch', async () => {
    const { a, b, idA, idB } = await linked();
    let calls = 0;
    a.onPacket = (id) => {
      calls++;
      // Reentrant calls of every method from inside onPacket.
      expect(a.ep.getStats(id)!.state).toBe('connected');
      expect(a.ep.send(id, rtpPacket(100, calls, SFU_SSRC))).toBe(true);
      a.ep.closeConnection(id);
      expect(a.ep.send(id, rtpPacket(100, calls, SFU_SSRC))).toBe(false);
      expect(a.ep.getStats(id)).toBeUndefined();
      const again = a.ep.createConnection('reenter', PWD, 'sha-256', FP, 'server');
      expect(again).toBe(id); // the id is reused at once; the old connection stays dead
      a.ep.closeConnection(again);
      a.ep.close();
      a.ep.close();
      expect(() => a.ep.createConnection('late', PWD, 'sha-256', FP, 'server')).toThrow(Error);
    };
    for (let i = 0; i < 20; i++) b.ep.send(idB, rtpPacket(200, i, BOT_SSRC));
    await sleep(200);
    expect(calls).toBe(1);
    expect(a.ep.getStats(idA)).toBeUndefined();
  });
});
