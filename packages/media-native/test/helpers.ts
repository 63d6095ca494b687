// Test helpers: node-datachannel bots (real WebRTC peers: libjuice full ICE, libdatachannel DTLS, libsrtp),
// the answer an ICE-lite SFU writes, hand-built STUN requests, and a UDP proxy that can drop datagrams.
import { createHmac, randomBytes } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { createRequire } from 'node:module';
import { crc32 } from 'node:zlib';
import type { PeerConnection, Track } from 'node-datachannel';
import { Endpoint, type EndpointOptions } from '../index.js';

const require = createRequire(import.meta.url);
// node-datachannel is a dependency of the server package (hoisted to the root node_modules).
export const ndc = require('node-datachannel') as typeof import('node-datachannel');

export const BOT_SSRC = 0x1234;
export const SFU_SSRC = 0x5678;

export interface Bot {
  pc: PeerConnection;
  track: Track;
  offer: string;
  fingerprintAlgorithm: string;
  fingerprint: string;
  received: Buffer[];
  close(): void;
}

/** A bot with one sendrecv VP8 track (SSRC BOT_SSRC), its offer gathered. */
export async function makeBot(name = 'bot'): Promise<Bot> {
  const pc = new ndc.PeerConnection(name, { iceServers: [], bindAddress: '127.0.0.1' });
  const v = new ndc.Video('0', 'SendRecv');
  v.addVP8Codec(96);
  v.addSSRC(BOT_SSRC, 'bot', 'bot-stream', 'bot-video');
  const track = pc.addTrack(v);
  const received: Buffer[] = [];
  track.onMessage((m) => received.push(Buffer.from(m)));
  pc.setLocalDescription();
  await new Promise<void>((resolve) => {
    if (pc.gatheringState() === 'complete') return resolve();
    pc.onGatheringStateChange((s) => s === 'complete' && resolve());
  });
  const offer = pc.localDescription()!.sdp;
  const m = /a=fingerprint:(\S+) (\S+)/.exec(offer)!;
  let closed = false;
  return {
    pc,
    track,
    offer,
    fingerprintAlgorithm: m[1]!,
    fingerprint: m[2]!,
    received,
    close() {
      if (closed) return;
      closed = true;
      pc.close();
    },
  };
}

/** The answer of an ICE-lite SFU on 127.0.0.1:port (sendrecv, our SSRC declared). */
export function answerSdp(o: { port: number; ufrag: string; pwd: string; fingerprint: string; setup?: 'passive' | 'active' }): string {
  return [
    'v=0',
    'o=- 1 1 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'a=group:BUNDLE 0',
    'a=ice-lite',
    'a=msid-semantic: WMS *',
    `m=video ${o.port} UDP/TLS/RTP/SAVPF 96`,
    'c=IN IP4 127.0.0.1',
    'a=mid:0',
    'a=sendrecv',
    'a=rtcp-mux',
    'a=rtpmap:96 VP8/90000',
    `a=ice-ufrag:${o.ufrag}`,
    `a=ice-pwd:${o.pwd}`,
    `a=fingerprint:sha-256 ${o.fingerprint}`,
    `a=setup:${o.setup ?? 'passive'}`,
    `a=ssrc:${SFU_SSRC} cname:sfu`,
    `a=candidate:1 1 UDP 2130706431 127.0.0.1 ${o.port} typ host`,
    'a=end-of-candidates',
    '',
  ].join('\r\n');
}

export function credentials(): { ufrag: string; pwd: string } {
  return { ufrag: randomBytes(4).toString('hex'), pwd: randomBytes(12).toString('hex') };
}

export interface Recorded {
  ep: Endpoint;
  recv: Buffer;
  packets: Array<{ id: number; data: Buffer }>;
  events: Array<{ id: number; event: number; detail: string }>;
  /** Called for each packet after it is recorded. */
  onPacket?: (id: number, data: Buffer) => void;
  onEvent?: (id: number, event: number, detail: string) => void;
}

/** An endpoint on 127.0.0.1 recording what it delivers. */
export function recordingEndpoint(extra: Partial<EndpointOptions> = {}): Recorded {
  const recv = Buffer.alloc(2048);
  const r: Recorded = { ep: undefined as unknown as Endpoint, recv, packets: [], events: [] };
  r.ep = new Endpoint({
    ip: '127.0.0.1',
    port: 0,
    recvBuffer: recv,
    onPacket: (id, len) => {
      const data = Buffer.from(recv.subarray(0, len));
      r.packets.push({ id, data });
      r.onPacket?.(id, data);
    },
    onEvent: (id, event, detail) => {
      r.events.push({ id, event, detail });
      r.onEvent?.(id, event, detail);
    },
    ...extra,
  });
  return r;
}

/** Polls `pred` every 10 ms until true; rejects after `timeoutMs`. */
export async function until(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function rtpPacket(size: number, seq: number, ssrc: number, pt = 96): Buffer {
  const p = Buffer.alloc(size);
  p[0] = 0x80;
  p[1] = pt;
  p.writeUInt16BE(seq & 0xffff, 2);
  p.writeUInt32BE((seq * 3000) >>> 0, 4);
  p.writeUInt32BE(ssrc, 8);
  for (let i = 12; i < size; i++) p[i] = (i * 7 + seq) & 0xff;
  return p;
}

/** An RTCP Sender Report (no report blocks) from `ssrc`. */
export function senderReport(ssrc: number): Buffer {
  const p = Buffer.alloc(28);
  p[0] = 0x80;
  p[1] = 200;
  p.writeUInt16BE(6, 2);
  p.writeUInt32BE(ssrc, 4);
  p.writeUInt32BE(0xe0000000, 8);
  p.writeUInt32BE(0x12345678, 12);
  p.writeUInt32BE(90000, 16);
  p.writeUInt32BE(10, 20);
  p.writeUInt32BE(12000, 24);
  return p;
}

// --- STUN ---

function attr(type: number, value: Buffer): Buffer {
  const pad = (4 - (value.length % 4)) % 4;
  const b = Buffer.alloc(4 + value.length + pad);
  b.writeUInt16BE(type, 0);
  b.writeUInt16BE(value.length, 2);
  value.copy(b, 4);
  return b;
}

/** A Binding request as a controlling full ICE agent sends it. */
export function bindingRequest(o: {
  username: string;
  key: string;
  useCandidate?: boolean;
  role?: 'controlling' | 'controlled';
  tiebreaker?: bigint;
  fingerprint?: boolean;
  integrity?: boolean;
}): Buffer {
  const header = Buffer.alloc(20);
  header.writeUInt16BE(0x0001, 0);
  header.writeUInt32BE(0x2112a442, 4);
  randomBytes(12).copy(header, 8);
  const parts: Buffer[] = [attr(0x0006, Buffer.from(o.username))];
  const tb = Buffer.alloc(8);
  tb.writeBigUInt64BE(o.tiebreaker ?? 0n);
  parts.push(attr(o.role === 'controlled' ? 0x8029 : 0x802a, tb));
  const prio = Buffer.alloc(4);
  prio.writeUInt32BE(1845501695);
  parts.push(attr(0x0024, prio));
  if (o.useCandidate) parts.push(attr(0x0025, Buffer.alloc(0)));
  let body = Buffer.concat(parts);
  if (o.integrity !== false) {
    header.writeUInt16BE(body.length + 24, 2);
    const mac = createHmac('sha1', o.key).update(Buffer.concat([header, body])).digest();
    body = Buffer.concat([body, attr(0x0008, mac)]);
  }
  if (o.fingerprint !== false) {
    header.writeUInt16BE(body.length + 8, 2);
    const fp = Buffer.alloc(4);
    fp.writeUInt32BE((crc32(Buffer.concat([header, body])) ^ 0x5354554e) >>> 0);
    body = Buffer.concat([body, attr(0x8028, fp)]);
  }
  header.writeUInt16BE(body.length, 2);
  return Buffer.concat([header, body]);
}

/** The XOR-MAPPED-ADDRESS of a response as "ip:port" ("[v6]:port"), or undefined. */
export function xorMappedAddress(msg: Buffer): string | undefined {
  let p = 20;
  while (p + 4 <= msg.length) {
    const type = msg.readUInt16BE(p);
    const len = msg.readUInt16BE(p + 2);
    if (type === 0x0020) {
      const family = msg[p + 5];
      const port = msg.readUInt16BE(p + 6) ^ 0x2112;
      const key = msg.subarray(4, 20);
      if (family === 0x01) return `${[0, 1, 2, 3].map((i) => msg[p + 8 + i]! ^ key[i]!).join('.')}:${port}`;
      const b = Buffer.alloc(16);
      for (let i = 0; i < 16; i++) b[i] = msg[p + 8 + i]! ^ key[i]!;
      const groups = [];
      for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
      return `[${groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::')}]:${port}`;
    }
    p += 4 + len + ((4 - (len % 4)) % 4);
  }
  return undefined;
}

/** A UDP socket that sends to the endpoint and collects what comes back. */
export class StunClient {
  readonly socket: Socket;
  readonly received: Buffer[] = [];
  constructor(family: 'udp4' | 'udp6' = 'udp4') {
    this.socket = createSocket(family);
    this.socket.on('message', (m) => this.received.push(m));
  }
  async bind(address = '127.0.0.1'): Promise<number> {
    await new Promise<void>((r) => this.socket.bind(0, address, r));
    return this.socket.address().port;
  }
  send(buf: Buffer, port: number, address = '127.0.0.1'): void {
    this.socket.send(buf, port, address);
  }
  close(): void {
    this.socket.close();
  }
}

/**
 * A UDP relay between a bot and the endpoint: the answer announces the proxy's port; the endpoint sees the
 * proxy's second socket. `dropFromEndpoint` decides, per datagram, whether to drop it.
 */
export class Proxy {
  readonly front = createSocket('udp4');
  readonly back = createSocket('udp4');
  bot: RemoteInfo | undefined;
  fromEndpoint: Buffer[] = [];
  dropped = 0;
  constructor(
    private readonly endpointPort: number,
    private readonly dropFromEndpoint: (msg: Buffer, index: number) => boolean = () => false,
  ) {
    this.front.on('message', (m, rinfo) => {
      this.bot = rinfo;
      this.back.send(m, this.endpointPort, '127.0.0.1');
    });
    this.back.on('message', (m) => {
      const i = this.fromEndpoint.length;
      this.fromEndpoint.push(m);
      if (this.dropFromEndpoint(m, i)) {
        this.dropped++;
        return;
      }
      if (this.bot) this.front.send(m, this.bot.port, this.bot.address);
    });
  }
  async start(): Promise<number> {
    await new Promise<void>((r) => this.front.bind(0, '127.0.0.1', r));
    await new Promise<void>((r) => this.back.bind(0, '127.0.0.1', r));
    return this.front.address().port;
  }
  close(): void {
    this.front.close();
    this.back.close();
  }
}

/**
 * Connects two endpoints through a relay (both are ICE-lite: the test sends each one a Binding request from the
 * relay socket that faces it). `a` is the DTLS server, `b` the client. Resolves with both connection ids.
 */
export async function linkEndpoints(a: Recorded, b: Recorded): Promise<{ idA: number; idB: number; relay: { close(): void } }> {
  const toA = createSocket('udp4');
  const toB = createSocket('udp4');
  await new Promise<void>((r) => toA.bind(0, '127.0.0.1', r));
  await new Promise<void>((r) => toB.bind(0, '127.0.0.1', r));
  // Only DTLS and media are relayed; STUN responses stop here.
  toA.on('message', (m) => m[0]! > 3 && toB.send(m, b.ep.port, '127.0.0.1'));
  toB.on('message', (m) => m[0]! > 3 && toA.send(m, a.ep.port, '127.0.0.1'));
  const ca = credentials();
  const cb = credentials();
  const idA = a.ep.createConnection(ca.ufrag, ca.pwd, 'sha-256', b.ep.fingerprint, 'server');
  const idB = b.ep.createConnection(cb.ufrag, cb.pwd, 'sha-256', a.ep.fingerprint, 'client');
  toA.send(bindingRequest({ username: `${ca.ufrag}:x`, key: ca.pwd, useCandidate: true }), a.ep.port, '127.0.0.1');
  await until(() => a.events.length > 0, 2000, 'ICE at a');
  toB.send(bindingRequest({ username: `${cb.ufrag}:y`, key: cb.pwd, useCandidate: true }), b.ep.port, '127.0.0.1');
  return {
    idA,
    idB,
    relay: {
      close() {
        toA.close();
        toB.close();
      },
    },
  };
}
