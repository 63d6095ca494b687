/**
 * Test-only WebRTC clients on node-datachannel's native track API: a publisher sending synthetic VP8-like RTP
 * with transport-wide sequence numbers and answering NACKs with RTX, and a subscriber that records what it
 * receives, NACKs gaps and unwraps RTX — the behaviour of a browser reduced to what the SFU must handle.
 */
import { Audio, PeerConnection, Video, type Track } from 'node-datachannel';
import { NackGenerator } from '../NackGenerator.js';
import {
  expandNack,
  isNack,
  isPli,
  isFir,
  isTwcc,
  isValidRtcp,
  rtcpNext,
  rtcpPacketType,
  RtcpType,
  TwccFeedback,
  writeNack,
  writePli,
} from '../rtcp.js';
import { isRtcp, isVp8Keyframe, readAudioLevel, rtpHeaderLength, rtpPayloadType, rtpSeq, rtpSsrc } from '../rtp.js';
import { RtpExtensionUri } from '../sdp.js';

const TEST_PC_CONFIG = { iceServers: [], bindAddress: '127.0.0.1' };

export const PUB_SSRC = 0x1111;
export const PUB_RTX_SSRC = 0x1112;
export const TWCC_ID = 3;
export const AUDIO_LEVEL_ID = 1;
export const PUB_AUDIO_SSRC = 0x3333;

/** A sendonly Opus m-section with transport-cc and audio level. */
export function audioDescription(mid: string, ssrc: number): Audio {
  const a = new Audio(mid, 'SendOnly');
  a.addOpusCodec(111);
  a.addSSRC(ssrc, 'pub-cname', 'pub-stream', `pub-audio-${mid}`);
  a.parseSdpLine(`a=extmap:${TWCC_ID} ${RtpExtensionUri.TRANSPORT_CC}`);
  a.parseSdpLine(`a=extmap:${AUDIO_LEVEL_ID} ${RtpExtensionUri.AUDIO_LEVEL}`);
  a.parseSdpLine('a=rtcp-fb:111 transport-cc');
  return a;
}

/**
 * Removes our ICE candidates from an offer. libdatachannel as an offerer can see ICE connect and run the DTLS
 * handshake before it has the answer (the SFU starts checks as soon as it has our candidates); the certificate
 * check then fails ("unknown CA") and the transport is torn down. Without candidates in the offer, the SFU
 * learns our address from our own checks (peer-reflexive), which start only once we hold its answer.
 * Browsers do not need this: they hold an early handshake until the answer arrives.
 */
export function withoutCandidates(sdp: string): string {
  return sdp
    .split('\r\n')
    .filter((l) => !l.startsWith('a=candidate:'))
    .join('\r\n');
}

function gathered(pc: PeerConnection): Promise<void> {
  return new Promise((resolve) => {
    if (pc.gatheringState() === 'complete') return resolve();
    pc.onGatheringStateChange((s) => s === 'complete' && resolve());
  });
}

/** Polls `pred` every 10 ms until true; rejects after `timeoutMs` with `what`. */
export async function until(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A publisher sending ~30 fps of two-packet frames; keyframes at start and on PLI/FIR. */
export class TestPublisher {
  readonly pc = new PeerConnection('test-pub', TEST_PC_CONFIG);
  readonly track: Track;
  /** Received RTCP, by kind. */
  plis = 0;
  firs = 0;
  nacks: number[] = [];
  receiverReports = 0;
  readonly twcc: Array<{ baseSeq: number; count: number; received: number; arrivalUs: number[] }> = [];
  /** Transport-wide sequence numbers sent. */
  transportSeq = 0;
  seq = 1000;
  sent = 0;
  /** Send every Nth media packet only as a retransmission (never the first time), 0 = never. */
  withholdEvery = 0;
  withheld = new Set<number>();
  retransmitted = 0;
  /** Ignore this many PLIs (as if they were lost). */
  ignorePlis = 0;
  /** Sequence number of the first packet of every keyframe sent, oldest first. */
  readonly keyframeSeqs: number[] = [];
  #ts = 90000;
  #timer: NodeJS.Timeout | undefined;
  #keyframeDue = true;
  #store = new Map<number, Buffer>();
  #rtxSeq = 0;
  readonly #fb = new TwccFeedback();
  readonly #nackOut = new Uint16Array(512);

  readonly kind: 'audio' | 'video';
  /** The companion audio track (mid '1') of a video publisher created with `withAudio`. */
  readonly audioTrack: Track | undefined;
  readonly #audioState = { seq: 5000, ts: 48000 };

  /** One track of `kind` on mid '0'; with `withAudio`, a video publisher also sends Opus on mid '1'. */
  constructor(kind: 'audio' | 'video' = 'video', withAudio = false) {
    this.kind = kind;
    if (kind === 'audio') {
      this.track = this.pc.addTrack(audioDescription('0', PUB_SSRC));
    } else {
      const v = new Video('0', 'SendOnly');
      v.addVP8Codec(96);
      v.addRTXCodec(97, 96, 90000);
      v.addSSRC(PUB_SSRC, 'pub-cname', 'pub-stream', 'pub-video');
      v.addSSRC(PUB_RTX_SSRC, 'pub-cname', 'pub-stream', 'pub-video');
      v.parseSdpLine(`a=ssrc-group:FID ${PUB_SSRC} ${PUB_RTX_SSRC}`);
      v.parseSdpLine(`a=extmap:${TWCC_ID} ${RtpExtensionUri.TRANSPORT_CC}`);
      v.parseSdpLine('a=rtcp-fb:96 transport-cc');
      v.parseSdpLine('a=rtcp-fb:96 ccm fir');
      this.track = this.pc.addTrack(v);
      if (withAudio) {
        this.audioTrack = this.pc.addTrack(audioDescription('1', PUB_AUDIO_SSRC));
        this.audioTrack.onMessage((m) => this.#onRtcp(m));
      }
    }
    this.track.onMessage((m) => this.#onRtcp(m));
  }

  async offer(): Promise<string> {
    this.pc.setLocalDescription();
    await gathered(this.pc);
    return withoutCandidates(this.pc.localDescription()!.sdp);
  }

  async connect(answer: string): Promise<void> {
    const open = new Promise<void>((r) => this.track.onOpen(r));
    this.pc.setRemoteDescription(answer, 'answer');
    await open;
  }

  start(): void {
    if (this.kind === 'audio') {
      this.#timer = setInterval(() => this.#audioFrame(this.track, PUB_SSRC, this.#primaryAudio), 20);
      return;
    }
    this.#timer = setInterval(() => this.#frame(), 33);
    const audio = this.audioTrack;
    if (audio) this.#audioTimer = setInterval(() => this.#audioFrame(audio, PUB_AUDIO_SSRC, this.#audioState), 20);
  }

  readonly #primaryAudio = { seq: 1000, ts: 48000 };
  #audioTimer: NodeJS.Timeout | undefined;

  #audioFrame(track: Track, ssrc: number, state: { seq: number; ts: number }): void {
    const seq = state.seq;
    state.seq = (state.seq + 1) & 0xffff;
    const p = Buffer.alloc(12 + 4 + 8 + 60);
    p[0] = 0x90;
    p[1] = 111;
    p.writeUInt16BE(seq, 2);
    p.writeUInt32BE(state.ts >>> 0, 4);
    p.writeUInt32BE(ssrc, 8);
    p.writeUInt16BE(0xbede, 12);
    p.writeUInt16BE(2, 14); // two words: transport-cc (3 bytes) + audio level (2 bytes) + padding
    p[16] = (TWCC_ID << 4) | 1;
    p[19] = (AUDIO_LEVEL_ID << 4) | 0;
    p[20] = 0x80 | 42; // voice activity, -42 dBov
    for (let k = 24; k < p.length; k++) p[k] = (seq + k) & 0xff;
    this.#send(p, track);
    state.ts += 960;
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    if (this.#audioTimer) clearInterval(this.#audioTimer);
    this.#timer = undefined;
    this.#audioTimer = undefined;
  }

  close(): void {
    this.stop();
    this.pc.close();
  }

  #frame(): void {
    const key = this.#keyframeDue;
    this.#keyframeDue = false;
    for (let i = 0; i < 2; i++) {
      const seq = this.seq;
      this.seq = (this.seq + 1) & 0xffff;
      if (key && i === 0) this.keyframeSeqs.push(seq);
      const p = Buffer.alloc(12 + 8 + 200);
      p[0] = 0x90; // V=2, X=1
      p[1] = 96 | (i === 1 ? 0x80 : 0);
      p.writeUInt16BE(seq, 2);
      p.writeUInt32BE(this.#ts >>> 0, 4);
      p.writeUInt32BE(PUB_SSRC, 8);
      p.writeUInt16BE(0xbede, 12);
      p.writeUInt16BE(1, 14);
      p[16] = (TWCC_ID << 4) | 1;
      // VP8 descriptor: S bit on the first packet of the frame, PID 0; payload header P bit 0 = keyframe.
      p[20] = i === 0 ? 0x10 : 0x00;
      p[21] = key ? 0x10 : 0x11;
      for (let k = 22; k < p.length; k++) p[k] = (seq + k) & 0xff;
      this.#store.set(seq, Buffer.from(p));
      if (this.#store.size > 2000) this.#store.delete(this.#store.keys().next().value!);
      if (this.withholdEvery > 0 && seq % this.withholdEvery === 0) {
        this.withheld.add(seq);
        continue;
      }
      this.#send(p);
    }
    this.#ts += 3000;
  }

  #send(p: Buffer, track: Track = this.track): void {
    p.writeUInt16BE(this.transportSeq, 17);
    this.transportSeq = (this.transportSeq + 1) & 0xffff;
    track.sendMessageBinary(p);
    this.sent++;
  }

  #onRtcp(buf: Buffer): void {
    if (!isRtcp(buf, buf.length) || !isValidRtcp(buf, buf.length)) return;
    for (let o = 0; o >= 0 && o < buf.length; o = rtcpNext(buf, o, buf.length)) {
      if (isPli(buf, o)) {
        this.plis++;
        if (this.ignorePlis > 0) this.ignorePlis--;
        else this.#keyframeDue = true;
      } else if (isFir(buf, o)) {
        this.firs++;
        this.#keyframeDue = true;
      } else if (rtcpPacketType(buf, o) === RtcpType.RR) {
        this.receiverReports++;
      } else if (isNack(buf, o)) {
        const n = expandNack(buf, o, this.#nackOut);
        for (let i = 0; i < n; i++) this.#retransmit(this.#nackOut[i]!);
      } else if (isTwcc(buf, o) && this.#fb.parse(buf, o)) {
        const arrivals = [...this.#fb.arrivalUs.subarray(0, this.#fb.statusCount)];
        this.twcc.push({
          baseSeq: this.#fb.baseSeq,
          count: this.#fb.statusCount,
          received: arrivals.filter((a) => !Number.isNaN(a)).length,
          arrivalUs: arrivals,
        });
      }
    }
  }

  #retransmit(seq: number): void {
    this.nacks.push(seq);
    const orig = this.#store.get(seq);
    if (!orig) return;
    // RTX: same header with the RTX SSRC/PT/sequence, then the original sequence number, then the payload.
    const hl = rtpHeaderLength(orig, orig.length);
    const p = Buffer.alloc(orig.length + 2);
    orig.copy(p, 0, 0, hl);
    p.writeUInt16BE(seq, hl);
    orig.copy(p, hl + 2, hl);
    p[1] = (p[1]! & 0x80) | 97;
    p.writeUInt16BE(this.#rtxSeq++ & 0xffff, 2);
    p.writeUInt32BE(PUB_RTX_SSRC, 8);
    this.retransmitted++;
    this.#send(p);
  }
}

/** A received packet as the subscriber saw it (RTX already unwrapped). */
export interface ReceivedPacket {
  kind: 'audio' | 'video';
  /** Audio level extension byte (id 1), or -1. */
  audioLevel: number;
  seq: number;
  ssrc: number;
  pt: number;
  keyframe: boolean;
  rtx: boolean;
  payloadByte: number;
}

/** A subscriber that records media, NACKs gaps (like a browser) and counts sender reports. */
export class TestSubscriber {
  readonly pc = new PeerConnection('test-sub', TEST_PC_CONFIG);
  /** The first track offered (video when offered first): PLIs and NACKs go there. */
  track: Track | undefined;
  readonly #tracks: Track[] = [];
  readonly packets: ReceivedPacket[] = [];
  /** Output sequence numbers seen (first transmission or retransmission). */
  readonly seen = new Set<number>();
  senderReports = 0;
  rtxReceived = 0;
  nacksSent = 0;
  /** NACK gaps like a browser does (off by default). */
  nackEnabled = false;
  mediaSsrc = 0;
  readonly #nack = new NackGenerator({ maxAgeMs: 2000 });
  readonly #nackOut = new Uint16Array(256);
  readonly #rtcp = Buffer.alloc(1500);
  #timer: NodeJS.Timeout | undefined;

  /**
   * Offers recvonly m-sections: video on mid 'v0' (VP8 pt 98 + RTX 99, not the publisher's numbering, as a
   * browser may choose), audio on mid 'a0' (Opus pt 109).
   */
  async offer(kinds: 'audio' | 'video' | Array<'audio' | 'video'> = 'video'): Promise<string> {
    for (const kind of Array.isArray(kinds) ? kinds : [kinds]) {
      if (kind === 'video') {
        const v = new Video('v0', 'RecvOnly');
        v.addVP8Codec(98);
        v.addRTXCodec(99, 98, 90000);
        v.parseSdpLine(`a=extmap:${TWCC_ID} ${RtpExtensionUri.TRANSPORT_CC}`);
        v.parseSdpLine('a=rtcp-fb:98 transport-cc');
        const t = this.pc.addTrack(v);
        t.onMessage((m) => this.#onMessage(m, 'video'));
        this.track ??= t;
        this.#tracks.push(t);
      } else {
        const a = new Audio('a0', 'RecvOnly');
        a.addOpusCodec(109);
        const t = this.pc.addTrack(a);
        t.onMessage((m) => this.#onMessage(m, 'audio'));
        this.track ??= t;
        this.#tracks.push(t);
      }
    }
    this.pc.setLocalDescription();
    await gathered(this.pc);
    return withoutCandidates(this.pc.localDescription()!.sdp);
  }

  /** Applies the SFU's answer and waits until every track is open. */
  async connect(answer: string): Promise<void> {
    const open = Promise.all(this.#tracks.map((t) => new Promise<void>((r) => t.onOpen(r))));
    this.pc.setRemoteDescription(answer, 'answer');
    await open;
    this.#timer = setInterval(() => this.#tick(), 20);
  }

  sendPli(): void {
    const n = writePli(this.#rtcp, 0, 0xabc, this.mediaSsrc);
    this.track!.sendMessageBinary(this.#rtcp.subarray(0, n));
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.pc.close();
  }

  #onMessage(m: Buffer, kind: 'audio' | 'video'): void {
    if (isRtcp(m, m.length)) {
      if (!isValidRtcp(m, m.length)) return;
      for (let o = 0; o >= 0 && o < m.length; o = rtcpNext(m, o, m.length)) {
        if (rtcpPacketType(m, o) === RtcpType.SR) this.senderReports++;
      }
      return;
    }
    const pt = rtpPayloadType(m);
    let seq = rtpSeq(m);
    let rtx = false;
    let body = m;
    if (pt === 99) {
      const hl = rtpHeaderLength(m, m.length);
      seq = m.readUInt16BE(hl);
      rtx = true;
      this.rtxReceived++;
      body = Buffer.concat([m.subarray(0, hl), m.subarray(hl + 2)]);
    } else if (kind === 'video' || this.mediaSsrc === 0) {
      this.mediaSsrc = rtpSsrc(m);
    }
    this.seen.add(seq);
    this.#nack.onPacket(seq, performance.now());
    this.packets.push({
      kind,
      audioLevel: readAudioLevel(m, m.length, AUDIO_LEVEL_ID),
      seq,
      ssrc: rtpSsrc(m),
      pt,
      rtx,
      keyframe: isVp8Keyframe(body, body.length),
      payloadByte: body[body.length - 1]!,
    });
  }

  #tick(): void {
    if (!this.nackEnabled || !this.track || this.mediaSsrc === 0) return;
    const n = this.#nack.collect(performance.now(), 30, this.#nackOut);
    if (n === 0) return;
    const len = writeNack(this.#rtcp, 0, 0xabc, this.mediaSsrc, this.#nackOut, n);
    this.track.sendMessageBinary(this.#rtcp.subarray(0, len));
    this.nacksSent++;
  }
}
