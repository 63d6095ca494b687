import { randomBytes } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { isStun, repairZeroTiebreaker, rewriteMappedAddress, Stun, stunType, stunUsername, verifyIntegrity } from './stun.js';

/** A peer forgets its relay socket after this long without a packet from it (ICE consent checks come every few seconds). */
const IDLE_MS = 30_000;
/** At most this many proxied peers at once (one UDP socket each). */
const MAX_PEERS = 1024;

/** Where the proxy forwards to, and how it authenticates what it repairs. */
export interface TiebreakerProxyOptions {
  /** Local address to bind the public socket ('0.0.0.0', '::' or one interface address). */
  listenIp: string;
  /** Public UDP port (0 = any free port). */
  port: number;
  /** The SFU's ICE UDP mux port (libjuice), reached on `targetIp`. */
  targetPort: number;
  /** Address of the SFU's port seen from this process ('127.0.0.1' when it listens on all interfaces). */
  targetIp: string;
  /** The local ICE password of the transport whose ICE ufrag this is, or undefined when none. */
  passwordFor: (localUfrag: string) => string | undefined;
}

interface Peer {
  readonly socket: Socket;
  readonly address: string;
  readonly port: number;
  /** ICE password of the SFU transport this peer talks to (key of its checks and our responses). */
  readonly key: string;
  /** Tiebreaker written into this peer's checks in place of zero: one per peer, as RFC 8445 §16.1 asks. */
  readonly tiebreaker: bigint;
  lastSeen: number;
}

/**
 * A UDP relay in front of the SFU's ICE port for peers whose connectivity checks libjuice refuses.
 *
 * Chromium's TURN-over-TCP/TLS ports send ICE checks with a tiebreaker of 0 (`ICE-CONTROLLING: 0`). libjuice,
 * libdatachannel's ICE agent, stores the ICE-CONTROLLING and ICE-CONTROLLED attributes as their values with 0
 * meaning "absent", sees neither, and answers `400 Bad Request` ("Controlling and controlled attributes mismatch
 * in request", libjuice `agent_process_stun_binding`); Chromium then fails the pair for good, so relay-only media
 * from a browser without UDP never connects (libjuice issue 355). We cannot change libjuice inside the prebuilt
 * node-datachannel, so each SFU answer also offers this proxy's port as a lower-priority host candidate: a
 * check arriving here whose integrity verifies with the transport's ICE password gets a non-zero tiebreaker
 * and is signed again, then everything from that peer (checks, DTLS, SRTP) goes to the SFU port from a socket
 * of its own, and everything back leaves from this port — the address the peer checked, as ICE requires.
 * Binding responses get the peer's real address in XOR-MAPPED-ADDRESS (the SFU saw the proxy's).
 * Peers that reach the SFU port directly never use it: their pairs with it rank lower.
 */
export class TiebreakerProxy {
  readonly #o: TiebreakerProxyOptions;
  readonly #socket: Socket;
  readonly #peers = new Map<string, Peer>();
  readonly #timer: NodeJS.Timeout;
  #closed = false;

  private constructor(o: TiebreakerProxyOptions, socket: Socket) {
    this.#o = o;
    this.#socket = socket;
    socket.on('message', (msg, rinfo) => this.#fromRemote(msg, rinfo));
    this.#timer = setInterval(() => this.#sweep(), IDLE_MS / 3);
    this.#timer.unref();
  }

  /** Binds the public port; rejects when it is taken. */
  static async create(o: TiebreakerProxyOptions): Promise<TiebreakerProxy> {
    const socket = createSocket({ type: isIPv6(o.listenIp) ? 'udp6' : 'udp4' });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(o.port, o.listenIp, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('error', () => {}); // ICMP unreachable and the like: the peer's checks time out on their own
    return new TiebreakerProxy(o, socket);
  }

  /** The public UDP port. */
  get port(): number {
    return this.#socket.address().port;
  }

  /** Peers currently proxied. */
  get peerCount(): number {
    return this.#peers.size;
  }

  /** Closes the public socket and every peer socket. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    for (const p of this.#peers.values()) p.socket.close();
    this.#peers.clear();
    this.#socket.close();
  }

  #fromRemote(msg: Buffer, rinfo: RemoteInfo): void {
    const id = `${rinfo.address}|${rinfo.port}`;
    let peer = this.#peers.get(id);
    const check = isStun(msg) && stunType(msg) === Stun.BINDING_REQUEST;
    if (check) {
      const key = this.#keyOf(msg);
      if (key !== undefined && peer?.key !== key) {
        // Only an authenticated check opens a relay socket (or moves the peer to another transport).
        if (peer) this.#drop(id, peer);
        if (this.#peers.size >= MAX_PEERS) return;
        peer = this.#open(id, rinfo, key);
      }
    }
    if (!peer) return; // nothing else from an unknown sender gets through to the SFU port
    peer.lastSeen = Date.now();
    if (check) repairZeroTiebreaker(msg, peer.key, peer.tiebreaker);
    peer.socket.send(msg, this.#o.targetPort, this.#o.targetIp);
  }

  /** The ICE password of the transport a check is for, when the check's integrity verifies with it. */
  #keyOf(check: Buffer): string | undefined {
    const localUfrag = stunUsername(check)?.split(':')[0];
    const key = localUfrag ? this.#o.passwordFor(localUfrag) : undefined;
    return key !== undefined && verifyIntegrity(check, key) ? key : undefined;
  }

  #drop(id: string, peer: Peer): void {
    peer.socket.close();
    this.#peers.delete(id);
  }

  #open(id: string, rinfo: RemoteInfo, key: string): Peer {
    const socket = createSocket({ type: isIPv6(this.#o.targetIp) ? 'udp6' : 'udp4' });
    let tiebreaker = 0n;
    while (tiebreaker === 0n) tiebreaker = randomBytes(8).readBigUInt64BE();
    const peer: Peer = { socket, address: rinfo.address, port: rinfo.port, key, tiebreaker, lastSeen: Date.now() };
    socket.on('error', () => {});
    socket.on('message', (back, from) => {
      if (this.#closed || from.port !== this.#o.targetPort) return;
      if (isStun(back) && stunType(back) === Stun.BINDING_SUCCESS) rewriteMappedAddress(back, peer.address, peer.port, peer.key);
      this.#socket.send(back, peer.port, peer.address);
    });
    socket.bind(0, this.#o.targetIp);
    this.#peers.set(id, peer);
    return peer;
  }

  #sweep(): void {
    const old = Date.now() - IDLE_MS;
    for (const [id, p] of this.#peers) if (p.lastSeen < old) this.#drop(id, p);
  }
}
