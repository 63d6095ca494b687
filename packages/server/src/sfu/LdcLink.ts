import { Audio, PeerConnection, Video } from 'node-datachannel';
import { InvalidStateError } from './errors.js';
import { addProxyCandidates, announceAddress, preferRemoteDtlsClient } from './sdp.js';
import type { MediaTrack, SendTrackSpec, TransportLink } from './TransportLink.js';
import type { TransportNetwork } from './WebRtcTransport.js';

/**
 * A {@link TransportLink} on libdatachannel (node-datachannel 0.33): one PeerConnection on the worker's shared
 * UDP port (ICE UDP mux). libdatachannel writes the answer itself from the offer and the tracks added before.
 * The fallback transport, used when the native addon is not built (or `transport: 'libdatachannel'`).
 */
export class LdcLink implements TransportLink {
  readonly #pc: PeerConnection;
  readonly #network: TransportNetwork;
  #closed = false;
  #verified = false;
  #onState: (state: string) => void = () => {};
  #gatherWaiters: Array<() => void> = [];
  /** Our ICE ufrag once registered in `network.iceCredentials` (for the TiebreakerProxy). */
  #ufrag: string | undefined;

  constructor(network: TransportNetwork, name: string) {
    this.#network = network;
    this.#pc = new PeerConnection(name, {
      iceServers: network.iceServers ?? [],
      bindAddress: network.listenIp,
      enableIceUdpMux: true,
      portRangeBegin: network.port,
      portRangeEnd: network.port,
    });
    this.#pc.onStateChange((state) => {
      if (this.#closed) return;
      if (state === 'connected') {
        // Gate media on a second fingerprint check (libdatachannel checks during the handshake too).
        if (!this.#verify()) state = 'failed';
      }
      this.#onState(state);
    });
  }

  onStateChange(cb: (state: string) => void): void {
    this.#onState = cb;
  }

  onTrack(cb: (mid: string, track: MediaTrack) => void): void {
    this.#pc.onTrack((track) => cb(track.mid(), track));
  }

  async answer(offer: string): Promise<string> {
    this.#pc.setRemoteDescription(preferRemoteDtlsClient(offer), 'offer');
    await this.#gathered();
    if (this.#closed) throw new InvalidStateError('WebRtcTransport closed');
    return this.#localSdp();
  }

  addSendTrack(spec: SendTrackSpec): MediaTrack {
    const { mid, payloadType: pt } = spec;
    const rtx = spec.rtxSsrc !== 0 && spec.rtxPayloadType >= 0;
    let desc: Video | Audio;
    if (spec.kind === 'video') {
      const v = new Video(mid, 'SendOnly');
      v.addVP8Codec(pt);
      v.parseSdpLine(`a=rtcp-fb:${pt} ccm fir`);
      if (rtx) v.addRTXCodec(spec.rtxPayloadType, pt, 90000);
      desc = v;
    } else {
      const a = new Audio(mid, 'SendOnly');
      a.addOpusCodec(pt);
      desc = a;
    }
    desc.addSSRC(spec.ssrc, spec.cname, spec.streamId, spec.trackId);
    if (rtx) {
      desc.addSSRC(spec.rtxSsrc, spec.cname, spec.streamId, spec.trackId);
      desc.parseSdpLine(`a=ssrc-group:FID ${spec.ssrc} ${spec.rtxSsrc}`);
    }
    return this.#pc.addTrack(desc);
  }

  addRemoteCandidate(candidate: string, mid: string): void {
    this.#pc.addRemoteCandidate(candidate.replace(/^a=/, ''), mid);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#pc.close();
    } catch {
      // already closed by libdatachannel
    }
    this.#releaseWaiters();
    if (this.#ufrag !== undefined) this.#network.iceCredentials?.delete(this.#ufrag);
  }

  /**
   * Checks the DTLS certificate the peer presented against the fingerprint in its SDP. libdatachannel checks it
   * during the handshake already (the client always offers, so we hold its fingerprint before any DTLS packet);
   * this second check gates media, so nothing flows to or from an unverified peer.
   */
  #verify(): boolean {
    if (this.#verified) return true;
    const remote = this.#pc.remoteDescription();
    const expected = remote ? parseFingerprint(remote.sdp) : undefined;
    if (!expected) return false;
    let actual: { value: string; algorithm: string } | undefined;
    try {
      actual = this.#pc.remoteFingerprint();
    } catch {
      actual = undefined;
    }
    // No certificate to compare: rely on libdatachannel's own check during the handshake.
    if (actual?.value && (actual.algorithm.toLowerCase() !== expected.algorithm || actual.value.toUpperCase() !== expected.value)) return false;
    this.#verified = true;
    return true;
  }

  #localSdp(): string {
    const d = this.#pc.localDescription();
    if (!d) throw new InvalidStateError('no local description');
    const { announcedAddress, tiebreakerProxyPort, iceCredentials } = this.#network;
    let sdp = announcedAddress ? announceAddress(d.sdp, announcedAddress) : d.sdp;
    if (tiebreakerProxyPort !== undefined && iceCredentials) {
      const ufrag = /^a=ice-ufrag:(\S+)/m.exec(sdp)?.[1];
      const pwd = /^a=ice-pwd:(\S+)/m.exec(sdp)?.[1];
      if (ufrag && pwd) {
        this.#ufrag = ufrag;
        iceCredentials.set(ufrag, pwd);
        sdp = addProxyCandidates(sdp, tiebreakerProxyPort);
      }
    }
    return sdp;
  }

  #gathered(): Promise<void> {
    if (this.#pc.gatheringState() === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      this.#gatherWaiters.push(resolve);
      this.#pc.onGatheringStateChange((s) => {
        if (s === 'complete') this.#releaseWaiters();
      });
      if (this.#pc.gatheringState() === 'complete') this.#releaseWaiters();
    });
  }

  #releaseWaiters(): void {
    const w = this.#gatherWaiters.splice(0);
    for (const resolve of w) resolve();
  }
}

/** The DTLS fingerprint of an SDP (session or first media level), upper-case hex, or undefined. */
export function parseFingerprint(sdp: string): { algorithm: string; value: string } | undefined {
  const m = /^a=fingerprint:(\S+) (\S+)/m.exec(sdp);
  return m ? { algorithm: m[1]!.toLowerCase(), value: m[2]!.toUpperCase() } : undefined;
}
