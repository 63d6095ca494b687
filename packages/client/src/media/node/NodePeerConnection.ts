import ndc from 'node-datachannel';
import type { PeerConnection, Track, RtcConfig } from 'node-datachannel';
import { TypedEmitter } from '@convene/protocol';
import { InvalidStateError } from '../../errors.js';
import { createLogger } from '../../logger.js';
import { InboundRtpCounter, type InboundRtpStats } from './InboundRtpCounter.js';
import { SyntheticAudioSource, type SyntheticAudioOptions } from './SyntheticAudioSource.js';
import { SyntheticVideoSource, type SyntheticVideoOptions } from './SyntheticVideoSource.js';
import type { OutboundRtpStats } from './RtpStreamSender.js';
import { ABS_CAPTURE_TIME_URI, DEFAULT_ABS_CAPTURE_TIME_ID, isRtcp } from './rtp.js';
import { parseRtcp, writeNack, writePli, writeReceiverReport, writeRemb } from './rtcp.js';
import { describeMedia, restrictOffer } from './sdp.js';
import { toNdcIceServers, type IceServerConfig } from './iceServers.js';

const log = createLogger('media/node');

/** An SDP offer or answer, as exchanged with the other side. */
export interface SessionDescription {
  type: 'offer' | 'answer';
  sdp: string;
}

/** A trickled ICE candidate (`candidate` is the `a=` value without the prefix, as in the W3C API). */
export interface IceCandidate {
  candidate: string;
  sdpMid: string;
}

export type { IceServerConfig };

/** Connection state, as in the W3C `RTCPeerConnectionState`. */
export type PeerState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';

/** Options of {@link NodePeerConnection}. */
export interface NodePeerConnectionOptions {
  /** STUN/TURN servers, W3C shape (`turn:` URLs use `username`/`credential`). */
  iceServers?: IceServerConfig[];
  /** Gather only relay candidates (TURN). */
  iceTransportPolicy?: 'all' | 'relay';
  /** Local address to bind (e.g. '127.0.0.1' for loopback tests). */
  bindAddress?: string;
  /** UDP port range for ICE. */
  portRange?: { begin: number; end: number };
  /** Share one UDP port among peer connections. */
  enableIceUdpMux?: boolean;
  /**
   * false (default): `createOffer`/`createAnswer` wait for ICE gathering to complete and
   * return an SDP that holds every candidate. true: they return at once and candidates come
   * as `icecandidate` events (then a final null).
   */
  trickle?: boolean;
  /** Bit rate asked of remote senders with REMB, in bit/s (default 5 000 000; 0 = never). */
  receiveBitrate?: number;
  /** Send NACKs for sequence gaps on received tracks (default true). */
  nack?: boolean;
  /** Name in libdatachannel's log. */
  name?: string;
  /**
   * Loss injection for tests and the load tester: return true to drop an outgoing RTP packet
   * (first transmissions and retransmissions alike) instead of sending it.
   */
  dropOutgoing?: (packet: Buffer, kind: 'audio' | 'video') => boolean;
}

/** Events of {@link NodePeerConnection}. */
export type NodePeerConnectionEvents = {
  /** A local candidate (trickle mode); null when gathering completed. */
  icecandidate: [IceCandidate | null];
  connectionstatechange: [PeerState];
  /** A remote track started (answerer side: one per received m-section). */
  track: [RemoteTrack];
  close: [];
};

/** Stats of the whole peer connection. */
export interface NodePeerStats {
  state: PeerState;
  selectedCandidatePair: { local: string; remote: string } | null;
  outbound: (OutboundRtpStats & { kind: 'audio' | 'video'; mid: string })[];
  inbound: InboundRtpStats[];
}

/** A track received from the other side, with its counters. */
export class RemoteTrack {
  readonly kind: 'audio' | 'video';
  readonly mid: string;
  readonly counter: InboundRtpCounter;
  readonly #track: Track;
  readonly #nack: boolean;
  readonly #receiveBitrate: number;
  readonly #localSsrc = (Math.random() * 0xffffffff) >>> 0;

  /** @internal */
  constructor(track: Track, kind: 'audio' | 'video', mid: string, counter: InboundRtpCounter, opts: { nack: boolean; receiveBitrate: number }) {
    this.#track = track;
    this.kind = kind;
    this.mid = mid;
    this.counter = counter;
    this.#nack = opts.nack;
    this.#receiveBitrate = opts.receiveBitrate;
    // No libdatachannel media handler on purpose: with one, RTCP we write is sent as media
    // and dropped on a recvonly track, and incoming RTCP (sender reports) is swallowed. We
    // write RR, REMB, NACK and PLI ourselves.
    track.onMessage((buf) => this.#onMessage(buf));
  }

  /** Counters of this track. */
  stats(): InboundRtpStats {
    return this.counter.stats();
  }

  /** Sends a PLI to the sender; returns false if the track is not open or nothing arrived yet. */
  requestKeyframe(): boolean {
    const ssrc = this.counter.ssrc;
    if (ssrc === null || !this.#track.isOpen()) return false;
    this.counter.plisSent++;
    return this.#send(writePli(this.#localSsrc, ssrc));
  }

  /** @internal Sends a receiver report (and REMB when configured); called every second. */
  sendReport(): void {
    const block = this.counter.reportBlock();
    if (block === null || !this.#track.isOpen()) return;
    const rr = writeReceiverReport(this.#localSsrc, [block]);
    this.#send(this.#receiveBitrate > 0 ? Buffer.concat([rr, writeRemb(this.#localSsrc, this.#receiveBitrate, [block.ssrc])]) : rr);
  }

  #send(buf: Buffer): boolean {
    try {
      return this.#track.sendMessageBinary(buf);
    } catch (err) {
      log.debug({ err, mid: this.mid }, 'RTCP send failed');
      return false;
    }
  }

  #onMessage(buf: Buffer): void {
    if (isRtcp(buf)) {
      for (const f of parseRtcp(buf)) if (f.kind === 'sr') this.counter.onSenderReport(f.ntpMiddle);
      return;
    }
    const missing = this.counter.onPacket(buf);
    if (this.#nack && missing !== null && missing.length > 0 && missing.length <= 64) {
      const ssrc = this.counter.ssrc;
      if (ssrc !== null && this.#track.isOpen()) {
        this.counter.nacksSent++;
        this.#send(writeNack(this.#localSsrc, ssrc, missing));
      }
    }
  }
}

interface LocalEntry {
  mid: string;
  source: SyntheticVideoSource | SyntheticAudioSource;
  track: Track;
}

/**
 * A media peer connection for Node (bots, tests, the load tester) on node-datachannel's native
 * track API. Publishes synthetic VP8/Opus that browsers decode, receives and counts remote
 * tracks, answers PLI/FIR/NACK, sends RR/REMB/NACK/PLI. Its shape follows the W3C
 * RTCPeerConnection closely enough for the SDK's media layer to treat both alike.
 *
 * Offerer (publishing): add sources, `createOffer()`, send it, `setRemoteDescription(answer)`.
 * Answerer (subscribing): `setRemoteDescription(offer)`, `createAnswer()`, send it; remote
 * tracks arrive as `track` events.
 *
 * @example
 * const pc = new NodePeerConnection({ bindAddress: '127.0.0.1' });
 * pc.addVideoSource({ width: 640, height: 480, fps: 30, bitrate: 800_000 });
 * pc.addAudioSource();
 * const offer = await pc.createOffer();
 * await pc.setRemoteDescription(await signalOffer(offer));
 */
export class NodePeerConnection extends TypedEmitter<NodePeerConnectionEvents> {
  readonly #pc: PeerConnection;
  readonly #options: NodePeerConnectionOptions;
  readonly #local: LocalEntry[] = [];
  readonly #remote: RemoteTrack[] = [];
  readonly #pendingRemote: Track[] = [];
  #remoteMedia = new Map<string, { kind: string; payloadTypes: number[]; absCaptureTimeId: number | null }>();
  #state: PeerState = 'new';
  #closed = false;
  #nextMid = 0;
  #gathering: 'new' | 'in-progress' | 'complete' = 'new';
  readonly #gatherWaiters: (() => void)[] = [];
  #localDescription: { sdp: string; type: string } | null = null;
  readonly #descriptionWaiters: (() => void)[] = [];
  #reportTimer: NodeJS.Timeout | null = null;
  readonly #emittedCandidates = new Set<string>();
  #candidatesEnded = false;

  constructor(options: NodePeerConnectionOptions = {}) {
    super();
    this.#options = options;
    const config: RtcConfig = {
      iceServers: (options.iceServers ?? []).flatMap(toNdcIceServers),
      iceTransportPolicy: options.iceTransportPolicy,
      bindAddress: options.bindAddress,
      enableIceUdpMux: options.enableIceUdpMux,
      portRangeBegin: options.portRange?.begin,
      portRangeEnd: options.portRange?.end,
    };
    this.#pc = new ndc.PeerConnection(options.name ?? 'convene-node-peer', config);
    this.#pc.onStateChange((s) => this.#setState(s as PeerState));
    this.#pc.onGatheringStateChange((s) => {
      this.#gathering = s as 'new' | 'in-progress' | 'complete';
      if (s === 'complete') {
        for (const w of this.#gatherWaiters.splice(0)) w();
        if (this.#options.trickle) this.#endOfCandidates();
      }
    });
    this.#pc.onLocalDescription((sdp, type) => {
      this.#localDescription = { sdp, type };
      for (const w of this.#descriptionWaiters.splice(0)) w();
    });
    this.#pc.onLocalCandidate((candidate, mid) => {
      if (this.#options.trickle) this.#emitCandidate(candidate.replace(/^a=/, ''), mid);
    });
    this.#pc.onTrack((track) => this.#onRemoteTrack(track));
    this.#reportTimer = setInterval(() => {
      for (const r of this.#remote) r.sendReport();
    }, 1000);
  }

  /** Connection state (W3C names). */
  get connectionState(): PeerState {
    return this.#state;
  }

  /** Remote tracks received so far. */
  get remoteTracks(): readonly RemoteTrack[] {
    return this.#remote;
  }

  /** Local synthetic sources, in m-section order. */
  get sources(): readonly (SyntheticVideoSource | SyntheticAudioSource)[] {
    return this.#local.map((l) => l.source);
  }

  /**
   * Adds a synthetic VP8 video source as a send-only m-section (before `createOffer`). It
   * starts sending when the track opens (DTLS-SRTP up) and stops on close.
   */
  addVideoSource(options: SyntheticVideoOptions = {}): SyntheticVideoSource {
    this.#assertOpen();
    const source = new SyntheticVideoSource(options);
    const mid = String(this.#nextMid++);
    const media = new ndc.Video(mid, 'SendOnly');
    const pt = source.rtp.payloadType;
    media.addVP8Codec(pt); // adds nack, nack pli, goog-remb
    media.parseSdpLine(`a=rtcp-fb:${pt} ccm fir`);
    this.#addSource(media, source, mid, 'video');
    return source;
  }

  /** Adds a synthetic Opus audio source as a send-only m-section (before `createOffer`). */
  addAudioSource(options: SyntheticAudioOptions = {}): SyntheticAudioSource {
    this.#assertOpen();
    const source = new SyntheticAudioSource(options);
    const mid = String(this.#nextMid++);
    const media = new ndc.Audio(mid, 'SendOnly');
    media.addOpusCodec(source.rtp.payloadType);
    media.parseSdpLine(`a=rtcp-fb:${source.rtp.payloadType} nack`);
    this.#addSource(media, source, mid, 'audio');
    return source;
  }

  /**
   * Adds a receive-only m-section (offerer side, e.g. a bot that offers to receive). The
   * returned track counts what arrives.
   */
  addReceiver(kind: 'audio' | 'video'): RemoteTrack {
    this.#assertOpen();
    const mid = String(this.#nextMid++);
    let media: InstanceType<typeof ndc.Video> | InstanceType<typeof ndc.Audio>;
    if (kind === 'video') {
      const video = new ndc.Video(mid, 'RecvOnly');
      video.addVP8Codec(96);
      media = video;
    } else {
      const audio = new ndc.Audio(mid, 'RecvOnly');
      audio.addOpusCodec(111);
      media = audio;
    }
    media.parseSdpLine(`a=extmap:${DEFAULT_ABS_CAPTURE_TIME_ID} ${ABS_CAPTURE_TIME_URI}`);
    const track = this.#pc.addTrack(media);
    const counter = new InboundRtpCounter(kind, mid, { payloadTypes: [kind === 'video' ? 96 : 111], absCaptureTimeId: DEFAULT_ABS_CAPTURE_TIME_ID });
    const remote = new RemoteTrack(track, kind, mid, counter, this.#trackOptions());
    this.#remote.push(remote);
    return remote;
  }

  /** Creates the local offer (with all candidates unless `trickle`). */
  async createOffer(): Promise<SessionDescription> {
    this.#assertOpen();
    this.#localDescription = null;
    this.#pc.setLocalDescription('offer');
    return { type: 'offer', sdp: await this.#finalLocalSdp() };
  }

  /** Returns the answer to the remote offer given to `setRemoteDescription`. */
  async createAnswer(): Promise<SessionDescription> {
    this.#assertOpen();
    if (this.#pc.remoteDescription()?.type !== 'offer') throw new InvalidStateError('createAnswer() needs a remote offer first');
    return { type: 'answer', sdp: await this.#finalLocalSdp() };
  }

  /**
   * Applies the remote description. An offer is first restricted to what this peer serves
   * (VP8, Opus, no transport-cc), and libdatachannel prepares the answer.
   */
  async setRemoteDescription(desc: SessionDescription): Promise<void> {
    this.#assertOpen();
    const sdp = desc.type === 'offer' ? restrictOffer(desc.sdp) : desc.sdp;
    this.#remoteMedia = describeMedia(sdp);
    if (desc.type === 'offer') this.#localDescription = null;
    this.#pc.setRemoteDescription(sdp, desc.type);
    // Tracks announced before the description was parsed get their payload types now.
    for (const t of this.#pendingRemote.splice(0)) this.#onRemoteTrack(t);
  }

  /** Adds a trickled remote candidate. */
  async addIceCandidate(c: IceCandidate): Promise<void> {
    this.#assertOpen();
    const line = c.candidate.startsWith('a=') ? c.candidate : `a=${c.candidate}`;
    if (c.candidate.trim() === '') return; // end-of-candidates
    this.#pc.addRemoteCandidate(line, c.sdpMid);
  }

  /** Per-track and transport counters. */
  getStats(): NodePeerStats {
    const pair = this.#closed ? null : this.#pc.getSelectedCandidatePair();
    return {
      state: this.#state,
      selectedCandidatePair: pair ? { local: pair.local.candidate, remote: pair.remote.candidate } : null,
      outbound: this.#local.map((l) => ({ ...l.source.stats, kind: l.source.kind, mid: l.mid })),
      inbound: this.#remote.map((r) => r.stats()),
    };
  }

  /** Stops the sources and closes the connection. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#reportTimer) clearInterval(this.#reportTimer);
    this.#reportTimer = null;
    for (const l of this.#local) {
      l.source.stop();
      l.source.attach(null);
    }
    for (const w of this.#gatherWaiters.splice(0)) w();
    for (const w of this.#descriptionWaiters.splice(0)) w();
    try {
      this.#pc.close();
    } catch (err) {
      log.debug({ err }, 'close failed');
    }
    this.#setState('closed');
    this.emit('close');
  }

  #addSource(media: InstanceType<typeof ndc.Video> | InstanceType<typeof ndc.Audio>, source: SyntheticVideoSource | SyntheticAudioSource, mid: string, kind: 'audio' | 'video'): void {
    const cname = `convene-${(source.ssrc >>> 0).toString(16)}`;
    media.addSSRC(source.ssrc, cname, `convene-${kind}`, `${kind}-${mid}`);
    if (source.rtp.absCaptureTimeId !== null) media.parseSdpLine(`a=extmap:${source.rtp.absCaptureTimeId} ${ABS_CAPTURE_TIME_URI}`);
    const track = this.#pc.addTrack(media);
    const drop = this.#options.dropOutgoing;
    source.attach((pkt) => {
      if (!track.isOpen()) return;
      // RTCP (sender reports) is never dropped: the hook models media loss.
      if (drop !== undefined && !isRtcp(pkt) && drop(pkt, kind)) return;
      track.sendMessageBinary(pkt);
    });
    track.onOpen(() => {
      if (!this.#closed) source.start();
    });
    track.onClosed(() => source.stop());
    track.onMessage((buf) => source.handleRtcp(buf));
    this.#local.push({ mid, source, track });
  }

  #onRemoteTrack(track: Track): void {
    if (this.#closed) return;
    const mid = track.mid();
    const info = this.#remoteMedia.get(mid);
    if (info === undefined) {
      this.#pendingRemote.push(track);
      return;
    }
    const kind = info.kind === 'audio' ? 'audio' : 'video';
    const counter = new InboundRtpCounter(kind, mid, { payloadTypes: info.payloadTypes, absCaptureTimeId: info.absCaptureTimeId });
    const remote = new RemoteTrack(track, kind, mid, counter, this.#trackOptions());
    this.#remote.push(remote);
    this.emit('track', remote);
  }

  #emitCandidate(candidate: string, sdpMid: string): void {
    // libdatachannel may report "gathering complete" before the last candidate callbacks.
    if (this.#candidatesEnded || this.#emittedCandidates.has(candidate)) return;
    this.#emittedCandidates.add(candidate);
    this.emit('icecandidate', { candidate, sdpMid });
  }

  /** Emits the candidates of the final local description not reported yet, then null. */
  #endOfCandidates(): void {
    if (this.#candidatesEnded) return;
    let mid = '0';
    for (const line of (this.#pc.localDescription()?.sdp ?? '').split(/\r?\n/)) {
      if (line.startsWith('a=mid:')) mid = line.slice(6);
      else if (line.startsWith('a=candidate:')) this.#emitCandidate(line.slice(2), mid);
    }
    this.#candidatesEnded = true;
    this.emit('icecandidate', null);
  }

  #trackOptions(): { nack: boolean; receiveBitrate: number } {
    return { nack: this.#options.nack ?? true, receiveBitrate: this.#options.receiveBitrate ?? 5_000_000 };
  }

  async #finalLocalSdp(): Promise<string> {
    if (this.#localDescription === null) await new Promise<void>((r) => this.#descriptionWaiters.push(r));
    if (!this.#options.trickle && this.#gathering !== 'complete') {
      await new Promise<void>((r) => this.#gatherWaiters.push(r));
    }
    this.#assertOpen();
    // After gathering, libdatachannel's local description includes every candidate.
    const desc = this.#pc.localDescription();
    if (desc === null) throw new InvalidStateError('no local description');
    return desc.sdp;
  }

  #setState(s: PeerState): void {
    if (s === this.#state) return;
    if (this.#state === 'closed') return;
    this.#state = s;
    this.emit('connectionstatechange', s);
  }

  #assertOpen(): void {
    if (this.#closed) throw new InvalidStateError('the peer connection is closed');
  }
}
