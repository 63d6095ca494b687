/**
 * @convene/media-native: the SFU's media transport. One UDP socket (read on the JS thread) serving many WebRTC
 * connections: ICE-lite (STUN Binding responses), DTLS-SRTP key exchange and SRTP/SRTCP, on Node's own OpenSSL.
 */

export interface EndpointOptions {
  /** Bind address: '0.0.0.0', '127.0.0.1', '::' (dual-stack), etc. */
  ip: string;
  /** 0 = ephemeral. */
  port: number;
  /** At least 2048 bytes; before each onPacket call the decrypted packet is written at offset 0. */
  recvBuffer: Uint8Array;
  /** A decrypted RTP or RTCP packet of `length` bytes in recvBuffer (RFC 5761 demux is the caller's). */
  onPacket: (connId: number, length: number) => void;
  /** A connection event (EVENT_*), with its detail. */
  onEvent: (connId: number, event: number, detail: string) => void;
  /** Default 30000: nothing received for this long once ICE is connected → EVENT_FAILED 'timeout'. */
  consentTimeoutMs?: number;
  /** Default 15000: DTLS not done this long after the first ICE check → EVENT_FAILED 'dtls-timeout'. */
  dtlsTimeoutMs?: number;
  /**
   * Default 5000: how long after the handshake the OpenSSL connection (~75 KB) is kept. After it, only our final
   * flight (resent on a retransmitted client flight), our close_notify and the peer's record keys (to authenticate
   * its alerts) remain, ~1 KB. Kept indefinitely when the DTLS cipher suite is not AES-GCM.
   */
  dtlsStateTtlMs?: number;
}

/** First valid binding request; detail "ip:port" (IPv6 as "[addr]:port"). */
export const EVENT_ICE_CONNECTED: 1;
/** Selected remote address changed (USE-CANDIDATE on another address, or consent moved); detail "ip:port". */
export const EVENT_PATH_CHANGED: 2;
/** Handshake done, peer fingerprint verified, SRTP keyed; detail = profile name, e.g. "SRTP_AEAD_AES_128_GCM". */
export const EVENT_DTLS_CONNECTED: 3;
/** detail: 'fingerprint-mismatch' | 'dtls-alert: <desc>' | 'dtls-timeout' | 'timeout' | other short reason. */
export const EVENT_FAILED: 4;
/** The peer sent a DTLS close_notify. */
export const EVENT_CLOSED: 5;

export interface ConnectionStats {
  state: 'new' | 'ice-connected' | 'connected' | 'failed' | 'closed';
  /** Selected remote address "ip:port", '' before ICE. */
  remoteAddress: string;
  /** SRTP profile name, '' before DTLS. */
  profile: string;
  /** SRTP/SRTCP packets that authenticated, and their bytes on the wire. */
  packetsReceived: number;
  bytesReceived: number;
  /** Packets protected and handed to the socket, and their bytes on the wire. */
  packetsSent: number;
  bytesSent: number;
  /** Received SRTP/SRTCP packets dropped (authentication, replay, malformed). */
  srtpErrors: number;
  /** Authenticated STUN Binding requests answered. */
  stunRequests: number;
  /** Datagrams the socket refused (EAGAIN, ENOBUFS, unreachable...): dropped. Not in the original contract. */
  sendErrors: number;
  /** Whether the OpenSSL connection object is still held (see dtlsStateTtlMs). Not in the original contract. */
  dtlsStateHeld: boolean;
}

export class Endpoint {
  /** Throws Error (code 'EADDRINUSE' etc., message with the errno text) when the port cannot be bound; TypeError on bad options. */
  constructor(options: EndpointOptions);
  /** The bound port. */
  readonly port: number;
  /** sha-256 of our certificate, "AB:CD:…" upper-case. */
  readonly fingerprint: string;
  /**
   * A connection whose STUN requests carry USERNAME "<localUfrag>:…" and whose DTLS peer has the given certificate
   * fingerprint (sha-256, sha-1, sha-384 or sha-512). Returns its id (≥ 1; small ints reused after close).
   * TypeError on bad arguments (including a localUfrag already in use on this endpoint); Error after close().
   */
  createConnection(localUfrag: string, localPwd: string, remoteFingerprintAlgorithm: string, remoteFingerprint: string, dtlsRole: 'server' | 'client'): number;
  /**
   * Protects an RTP or RTCP packet (byte 1 in 192..223 = RTCP) and sends it to the connection's selected address.
   * False when the id is unknown/closed, SRTP is not keyed yet, or the packet is malformed or larger than 1516
   * bytes; never throws. Inside onPacket/onEvent (and microtasks they queue) sends are batched into sendmmsg.
   */
  send(connId: number, packet: Uint8Array): boolean;
  /** Sends close_notify if keyed and frees the connection; unknown id: no-op. No event follows. */
  closeConnection(connId: number): void;
  getStats(connId: number): ConnectionStats | undefined;
  /** Closes the socket and every connection (close_notify to keyed peers); idempotent; after it send() returns false. */
  close(): void;
}

/** Not part of the API: bytes in use in the C heap (glibc mallinfo2), for bench/memory.mjs. */
export function _mallocInUse(): number;

declare const native: {
  Endpoint: typeof Endpoint;
  EVENT_ICE_CONNECTED: 1;
  EVENT_PATH_CHANGED: 2;
  EVENT_DTLS_CONNECTED: 3;
  EVENT_FAILED: 4;
  EVENT_CLOSED: 5;
  _mallocInUse: typeof _mallocInUse;
};
export default native;
