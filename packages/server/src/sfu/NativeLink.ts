import { buildAnswer, newIceCredentials } from './answer.js';
import { InvalidStateError } from './errors.js';
import { parseFingerprint } from './LdcLink.js';
import { NativeEvent, type NativeMedia } from './NativeMedia.js';
import { extLength, extOffset, findRtpExtension, isRtcp, rtpSsrc } from './rtp.js';
import type { PublishedMedia } from './sdp.js';
import type { MediaTrack, SendTrackSpec, TransportLink } from './TransportLink.js';

/** A client that has not completed ICE and DTLS this long after our first answer has failed. */
const CONNECT_TIMEOUT_MS = 30_000;

/** One m-section's track on a {@link NativeLink}. */
class NativeTrack implements MediaTrack {
  #onMessage: (msg: Buffer) => void = () => {};
  #onOpen: (() => void) | undefined;
  #onClosed: (() => void) | undefined;
  #open = false;
  #closed = false;

  constructor(readonly link: NativeLink) {}

  onMessage(cb: (msg: Buffer) => void): void {
    this.#onMessage = cb;
  }

  onOpen(cb: () => void): void {
    this.#onOpen = cb;
    if (this.#open) cb();
  }

  onClosed(cb: () => void): void {
    this.#onClosed = cb;
  }

  sendMessageBinary(buf: Buffer): boolean {
    return this.#open && this.link._send(buf);
  }

  /** @internal */
  _deliver(buf: Buffer): void {
    this.#onMessage(buf);
  }

  /** @internal */
  _setOpen(): void {
    if (this.#open || this.#closed) return;
    this.#open = true;
    this.#onOpen?.();
  }

  /** @internal */
  _setClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#open = false;
    this.#onClosed?.();
  }
}

/**
 * A {@link TransportLink} on the native addon: ICE-lite, DTLS (we are the server unless the offer says
 * `a=setup:passive`) and SRTP happen in `@convene/media-native` on the worker's one socket; we write the answer
 * (`answer.ts`) and demultiplex decrypted packets to tracks: RTP by SSRC, RTCP to every track (each one keeps
 * what concerns its SSRC).
 */
export class NativeLink implements TransportLink {
  readonly #media: NativeMedia;
  readonly #ice = newIceCredentials();
  #id = 0;
  #closed = false;
  #connected = false;
  #version = 1;
  readonly #sessionId = String(Math.floor(Math.random() * 1e15));
  #onState: (state: string) => void = () => {};
  #onTrack: (mid: string, track: MediaTrack) => void = () => {};
  /** Received tracks by mid, and by the SSRCs (media and RTX) they carry. */
  readonly #recvByMid = new Map<string, NativeTrack>();
  readonly #recvBySsrc = new Map<number, NativeTrack>();
  /** Sent tracks by mid, with what the answer announces for them. */
  readonly #send = new Map<string, { spec: SendTrackSpec; track: NativeTrack }>();
  /** Extension id of the MID in the client's packets (RFC 8843 §15), or -1. */
  #midId = -1;
  /** Every track, for RTCP (an array: the hot path iterates it). */
  #all: NativeTrack[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(media: NativeMedia) {
    this.#media = media;
  }

  onStateChange(cb: (state: string) => void): void {
    this.#onState = cb;
  }

  onTrack(cb: (mid: string, track: MediaTrack) => void): void {
    this.#onTrack = cb;
  }

  async answer(offer: string, received: readonly PublishedMedia[]): Promise<string> {
    if (this.#closed) throw new InvalidStateError('WebRtcTransport closed');
    if (this.#id === 0) {
      const fp = parseFingerprint(offer);
      if (!fp) throw new TypeError('the offer has no a=fingerprint');
      const setup = /^a=setup:(\S+)/m.exec(offer)?.[1];
      this.#id = this.#media.endpoint.createConnection(this.#ice.ufrag, this.#ice.pwd, fp.algorithm, fp.value, setup === 'passive' ? 'client' : 'server');
      this.#media._register(this.#id, this);
      this.#timer = setTimeout(() => {
        if (!this.#connected) this.#fail();
      }, CONNECT_TIMEOUT_MS);
      this.#timer.unref();
      queueMicrotask(() => {
        if (!this.#closed && !this.#connected) this.#onState('connecting');
      });
    }
    this.#setReceived(received);
    const send = new Map<string, { ssrc: number; rtxSsrc?: number; cname: string; streamId: string; trackId: string }>();
    for (const [mid, { spec }] of this.#send) send.set(mid, spec.rtxSsrc ? spec : { ...spec, rtxSsrc: undefined });
    return buildAnswer(offer, {
      iceUfrag: this.#ice.ufrag,
      icePwd: this.#ice.pwd,
      fingerprint: this.#media.endpoint.fingerprint,
      candidates: this.#media.candidates.slice(),
      send,
      sessionId: this.#sessionId,
      sessionVersion: this.#version++,
    });
  }

  addSendTrack(spec: SendTrackSpec): MediaTrack {
    if (this.#closed) throw new InvalidStateError('WebRtcTransport closed');
    const track = new NativeTrack(this);
    this.#send.set(spec.mid, { spec, track });
    this.#all = [...this.#all, track];
    if (this.#connected) track._setOpen();
    return track;
  }

  addRemoteCandidate(): void {
    // ICE-lite: the client's checks tell us its addresses; trickled candidates are not needed.
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    if (this.#id !== 0) this.#media._unregister(this.#id);
    for (const t of this.#all) t._setClosed();
    this.#all = [];
    this.#recvBySsrc.clear();
  }

  /** @internal Sends one packet on this connection (SRTP-protected by the addon). */
  _send(buf: Buffer): boolean {
    return this.#media.endpoint.send(this.#id, buf);
  }

  /** @internal A decrypted packet from the client (valid during the call). */
  _onPacket(buf: Buffer): void {
    if (buf.length < 8) return;
    if (isRtcp(buf, buf.length)) {
      const all = this.#all;
      for (let i = 0; i < all.length; i++) all[i]!._deliver(buf);
      return;
    }
    const track = this.#recvBySsrc.get(rtpSsrc(buf)) ?? this.#learnSsrc(buf);
    track?._deliver(buf);
  }

  /**
   * An SSRC the SDP did not list (simulcast layers, RTX of them): the MID header extension tells its m-section
   * (BUNDLE, RFC 8843 §9.2); remember it for the packets that follow without one.
   */
  #learnSsrc(buf: Buffer): NativeTrack | undefined {
    if (this.#midId < 0) return undefined;
    const e = findRtpExtension(buf, buf.length, this.#midId);
    if (e < 0) return undefined;
    const track = this.#recvByMid.get(buf.toString('latin1', extOffset(e), extOffset(e) + extLength(e)));
    if (track) this.#recvBySsrc.set(rtpSsrc(buf), track);
    return track;
  }

  /** @internal */
  _onEvent(event: number): void {
    if (this.#closed) return;
    switch (event) {
      case NativeEvent.DTLS_CONNECTED:
        this.#connected = true;
        clearTimeout(this.#timer);
        for (const t of this.#all) t._setOpen();
        this.#onState('connected');
        break;
      case NativeEvent.FAILED:
        this.#fail();
        break;
      case NativeEvent.CLOSED:
        this.#onState('closed');
        break;
      default:
        break;
    }
  }

  #fail(): void {
    if (this.#closed) return;
    this.#onState('failed');
  }

  /** Tracks for the m-sections we receive on now: new mids get a track; announced SSRCs are (re)mapped. */
  #setReceived(received: readonly PublishedMedia[]): void {
    // SSRCs learned from the MID extension stay with tracks that remain (the client stops sending the MID once
    // our receiver reports acknowledge an SSRC); those of tracks no longer received are forgotten.
    const kept = new Set<NativeTrack>();
    for (const m of received) {
      const t = this.#recvByMid.get(m.mid);
      if (t) kept.add(t);
    }
    for (const [ssrc, t] of this.#recvBySsrc) if (!kept.has(t)) this.#recvBySsrc.delete(ssrc);
    this.#midId = received.find((m) => m.midId > 0)?.midId ?? -1;
    const fresh: Array<[string, NativeTrack]> = [];
    for (const m of received) {
      let t = this.#recvByMid.get(m.mid);
      if (!t) {
        t = new NativeTrack(this);
        this.#recvByMid.set(m.mid, t);
        this.#all = [...this.#all, t];
        fresh.push([m.mid, t]);
      }
      if (m.ssrc !== 0) this.#recvBySsrc.set(m.ssrc, t);
      if (m.rtxSsrc !== 0) this.#recvBySsrc.set(m.rtxSsrc, t);
    }
    for (const [mid, t] of fresh) {
      if (this.#connected) t._setOpen();
      this.#onTrack(mid, t);
    }
  }
}
