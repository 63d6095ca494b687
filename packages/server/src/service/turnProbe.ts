import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect as tcpConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/*
 * A minimal STUN/TURN client (RFC 5389 / RFC 8656) for connectivity checks: a STUN Binding request,
 * or a TURN Allocate with long-term credentials over UDP, TCP or TLS, released right away with a
 * Refresh of lifetime 0. Only what a check needs: no permissions, channels or data relaying.
 */

const MAGIC = 0x2112a442;
const BINDING = 0x0001;
const ALLOCATE = 0x0003;
const REFRESH = 0x0004;
const SUCCESS = 0x0100;
const ERROR = 0x0110;
const ATTR = {
  username: 0x0006,
  messageIntegrity: 0x0008,
  errorCode: 0x0009,
  lifetime: 0x000d,
  realm: 0x0014,
  nonce: 0x0015,
  xorRelayedAddress: 0x0016,
  requestedTransport: 0x0019,
  xorMappedAddress: 0x0020,
} as const;

/** A parsed `stun:`/`turn:`/`turns:` URL. */
export interface IceUrl {
  scheme: 'stun' | 'turn' | 'turns';
  host: string;
  port: number;
  transport: 'udp' | 'tcp' | 'tls';
}

/** Parse an ICE server URL (RFC 7064/7065); throws TypeError when it is not one. */
export function parseIceUrl(url: string): IceUrl {
  const m = /^(stun|stuns|turn|turns):(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?(?:\?transport=(udp|tcp))?$/.exec(url);
  if (!m) throw new TypeError(`not a stun:, turn: or turns: URL: ${url}`);
  const scheme = (m[1] === 'stuns' ? 'stun' : m[1]) as IceUrl['scheme'];
  const secure = m[1] === 'turns' || m[1] === 'stuns';
  const host = (m[2] as string).replace(/^\[|\]$/g, '');
  const port = m[3] !== undefined ? Number(m[3]) : secure ? 5349 : 3478;
  const transport = secure ? 'tls' : ((m[4] ?? 'udp') as 'udp' | 'tcp');
  return { scheme, host, port, transport };
}

/** Result of a probe. */
export type ProbeResult =
  | { ok: true; ms: number; mapped?: string; relayed?: string }
  | { ok: false; ms: number; reason: 'timeout' | 'refused' | 'unauthorized' | 'error' | 'tls'; message: string };

/** A STUN message under construction. */
function message(type: number, tid: Buffer, attrs: [number, Buffer][], integrityKey?: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (const [t, v] of attrs) {
    const h = Buffer.alloc(4);
    h.writeUInt16BE(t, 0);
    h.writeUInt16BE(v.length, 2);
    parts.push(h, v, Buffer.alloc((4 - (v.length % 4)) % 4));
  }
  let body = Buffer.concat(parts);
  const header = (len: number): Buffer => {
    const h = Buffer.alloc(20);
    h.writeUInt16BE(type, 0);
    h.writeUInt16BE(len, 2);
    h.writeUInt32BE(MAGIC, 4);
    tid.copy(h, 8);
    return h;
  };
  if (integrityKey) {
    // MESSAGE-INTEGRITY covers the header with a length that already counts the MI attribute (24 bytes).
    const mac = createHmac('sha1', integrityKey).update(Buffer.concat([header(body.length + 24), body])).digest();
    const mi = Buffer.alloc(4);
    mi.writeUInt16BE(ATTR.messageIntegrity, 0);
    mi.writeUInt16BE(20, 2);
    body = Buffer.concat([body, mi, mac]);
  }
  return Buffer.concat([header(body.length), body]);
}

interface Parsed {
  type: number;
  tid: Buffer;
  attrs: Map<number, Buffer>;
}

function parse(buf: Buffer): Parsed | null {
  if (buf.length < 20 || buf.readUInt32BE(4) !== MAGIC) return null;
  const len = buf.readUInt16BE(2);
  if (buf.length < 20 + len) return null;
  const attrs = new Map<number, Buffer>();
  let off = 20;
  while (off + 4 <= 20 + len) {
    const t = buf.readUInt16BE(off);
    const l = buf.readUInt16BE(off + 2);
    if (off + 4 + l > buf.length) break;
    if (!attrs.has(t)) attrs.set(t, buf.subarray(off + 4, off + 4 + l));
    off += 4 + l + ((4 - (l % 4)) % 4);
  }
  return { type: buf.readUInt16BE(0), tid: buf.subarray(8, 20), attrs };
}

function xorAddress(v: Buffer | undefined, tid: Buffer): string | undefined {
  if (!v || v.length < 8) return undefined;
  const family = v[1];
  const port = v.readUInt16BE(2) ^ (MAGIC >>> 16);
  if (family === 0x01) {
    const a = v.readUInt32BE(4) ^ MAGIC;
    return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}:${port}`;
  }
  if (family === 0x02 && v.length >= 20) {
    const mask = Buffer.concat([Buffer.from([0x21, 0x12, 0xa4, 0x42]), tid]);
    const bytes = Buffer.alloc(16);
    for (let i = 0; i < 16; i++) bytes[i] = (v[4 + i] as number) ^ (mask[i] as number);
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
    return `[${groups.join(':')}]:${port}`;
  }
  return undefined;
}

function errorOf(p: Parsed): { code: number; text: string } {
  const v = p.attrs.get(ATTR.errorCode);
  if (!v || v.length < 4) return { code: 0, text: '' };
  return { code: ((v[2] as number) & 7) * 100 + (v[3] as number), text: v.subarray(4).toString('utf8') };
}

/** A request/response channel to one server over UDP, TCP or TLS. */
interface Channel {
  /** Send a request; resolves with the response of the same transaction id. */
  transact(msg: Buffer, tid: Buffer, deadline: number): Promise<Parsed>;
  close(): void;
}

class ProbeError extends Error {
  constructor(
    readonly reason: 'timeout' | 'refused' | 'unauthorized' | 'error' | 'tls',
    message: string,
  ) {
    super(message);
  }
}

function udpChannel(host: string, port: number): Channel {
  const family = isIP(host) === 6 || host.includes(':') ? 'udp6' : 'udp4';
  const sock = createSocket(family);
  const waiting = new Map<string, (p: Parsed) => void>();
  let failure: Error | null = null;
  sock.on('message', (buf) => {
    const p = parse(buf);
    if (p) waiting.get(p.tid.toString('hex'))?.(p);
  });
  sock.on('error', (err) => (failure = err));
  return {
    transact(msg, tid, deadline) {
      return new Promise((resolve, reject) => {
        const key = tid.toString('hex');
        let rto = 250;
        let timer: NodeJS.Timeout;
        const done = (): void => {
          clearTimeout(timer);
          waiting.delete(key);
        };
        const send = (): void => {
          if (failure) {
            done();
            reject(new ProbeError('error', failure.message));
            return;
          }
          const left = deadline - Date.now();
          if (left <= 0) {
            done();
            reject(new ProbeError('timeout', `no answer from ${host}:${port} over UDP`));
            return;
          }
          sock.send(msg, port, host, (err) => {
            if (err) failure = err;
          });
          timer = setTimeout(send, Math.min(rto, left));
          rto = Math.min(rto * 2, 1600);
        };
        waiting.set(key, (p) => {
          done();
          resolve(p);
        });
        send();
      });
    },
    close() {
      try {
        sock.close();
      } catch {
        // already closed
      }
    },
  };
}

function streamChannel(host: string, port: number, tls: boolean, deadline: number, ca?: string | Buffer): Promise<Channel> {
  return new Promise((resolve, reject) => {
    const waiting = new Map<string, (p: Parsed) => void>();
    let buffered = Buffer.alloc(0);
    let closedWith: ProbeError | null = null;
    const sock: Socket = tls ? tlsConnect({ host, port, servername: isIP(host) ? undefined : host, ca }) : tcpConnect({ host, port });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new ProbeError('timeout', `no ${tls ? 'TLS' : 'TCP'} connection to ${host}:${port}`));
    }, Math.max(0, deadline - Date.now()));
    sock.on(tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      resolve({
        transact(msg, tid, dl) {
          if (closedWith) return Promise.reject(closedWith);
          return new Promise((res, rej) => {
            const key = tid.toString('hex');
            const t = setTimeout(() => {
              waiting.delete(key);
              rej(new ProbeError('timeout', `no answer from ${host}:${port} over ${tls ? 'TLS' : 'TCP'}`));
            }, Math.max(0, dl - Date.now()));
            waiting.set(key, (p) => {
              clearTimeout(t);
              waiting.delete(key);
              res(p);
            });
            sock.write(msg);
          });
        },
        close: () => sock.destroy(),
      });
    });
    sock.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 20) {
        const total = 20 + buffered.readUInt16BE(2);
        if (buffered.length < total) break;
        const p = parse(buffered.subarray(0, total));
        buffered = buffered.subarray(total);
        if (p) waiting.get(p.tid.toString('hex'))?.(p);
      }
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const isTls = tls && (err.code?.startsWith('ERR_TLS') || /certificate|self.signed|SSL/i.test(err.message));
      closedWith = new ProbeError(err.code === 'ECONNREFUSED' ? 'refused' : isTls ? 'tls' : 'error', err.message);
      reject(closedWith);
    });
  });
}

/** Options of a probe. */
export interface ProbeOptions {
  username?: string;
  credential?: string;
  timeoutMs?: number;
  /** Extra CA certificates (PEM) trusted for `turns:` (a TURN server with a private CA). */
  ca?: string | Buffer;
}

/**
 * Probe one ICE server URL: a STUN Binding request for `stun:`, a TURN Allocate (then released) for
 * `turn:`/`turns:`. Never throws for network conditions; resolves with ok or a reason.
 *
 * @example
 * const r = await probeIceServer('turn:turn.example.com:3478?transport=tcp', { username, credential });
 * if (r.ok) console.log('relayed address', r.relayed);
 */
export async function probeIceServer(url: string, options: ProbeOptions = {}): Promise<ProbeResult> {
  const u = parseIceUrl(url);
  const t0 = Date.now();
  const deadline = t0 + (options.timeoutMs ?? 5000);
  let ch: Channel | null = null;
  try {
    ch = u.transport === 'udp' ? udpChannel(u.host, u.port) : await streamChannel(u.host, u.port, u.transport === 'tls', deadline, options.ca);
    if (u.scheme === 'stun') {
      const tid = randomBytes(12);
      const r = await ch.transact(message(BINDING, tid, []), tid, deadline);
      if (r.type !== (BINDING | SUCCESS)) return { ok: false, ms: Date.now() - t0, reason: 'error', message: `unexpected STUN answer type 0x${r.type.toString(16)}` };
      return { ok: true, ms: Date.now() - t0, mapped: xorAddress(r.attrs.get(ATTR.xorMappedAddress), tid) };
    }
    const transport = Buffer.from([17, 0, 0, 0]); // REQUESTED-TRANSPORT: UDP (relayed toward peers)
    let tid = randomBytes(12);
    let r = await ch.transact(message(ALLOCATE, tid, [[ATTR.requestedTransport, transport]]), tid, deadline);
    if (r.type === (ALLOCATE | ERROR) && errorOf(r).code === 401) {
      if (options.username === undefined || options.credential === undefined)
        return { ok: false, ms: Date.now() - t0, reason: 'unauthorized', message: 'the TURN server wants credentials and none were given' };
      const realm = r.attrs.get(ATTR.realm) ?? Buffer.alloc(0);
      const nonce = r.attrs.get(ATTR.nonce) ?? Buffer.alloc(0);
      const key = createHash('md5').update(`${options.username}:${realm.toString('utf8')}:${options.credential}`).digest();
      const auth: [number, Buffer][] = [
        [ATTR.username, Buffer.from(options.username, 'utf8')],
        [ATTR.realm, realm],
        [ATTR.nonce, nonce],
      ];
      tid = randomBytes(12);
      r = await ch.transact(message(ALLOCATE, tid, [[ATTR.requestedTransport, transport], ...auth], key), tid, deadline);
      if (r.type === (ALLOCATE | SUCCESS)) {
        const relayed = xorAddress(r.attrs.get(ATTR.xorRelayedAddress), tid);
        const mapped = xorAddress(r.attrs.get(ATTR.xorMappedAddress), tid);
        const ms = Date.now() - t0;
        // Release the allocation (best effort: a stale nonce or a lost answer only leaves it to expire).
        const rt = randomBytes(12);
        const lifetime = Buffer.alloc(4);
        await ch.transact(message(REFRESH, rt, [[ATTR.lifetime, lifetime], ...auth], key), rt, Math.min(deadline + 1000, Date.now() + 1000)).catch(() => {});
        return { ok: true, ms, relayed, mapped };
      }
    }
    if (r.type === (ALLOCATE | SUCCESS)) return { ok: true, ms: Date.now() - t0, relayed: xorAddress(r.attrs.get(ATTR.xorRelayedAddress), tid) };
    const e = errorOf(r);
    if (e.code === 401) return { ok: false, ms: Date.now() - t0, reason: 'unauthorized', message: `credentials refused (401 ${e.text})`.trim() };
    return { ok: false, ms: Date.now() - t0, reason: 'error', message: `allocation refused: ${e.code} ${e.text}`.trim() };
  } catch (err) {
    if (err instanceof ProbeError) return { ok: false, ms: Date.now() - t0, reason: err.reason, message: err.message };
    return { ok: false, ms: Date.now() - t0, reason: 'error', message: (err as Error).message };
  } finally {
    ch?.close();
  }
}
