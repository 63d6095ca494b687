import type { PeerCandidate, PeerDescription } from '@convene/protocol';
import { createLogger } from '../logger.js';
import { withoutCandidates, type PeerState } from './peer.js';

/*
 * Relayed (peer-to-peer) sessions: one peer connection per subscription, between the publisher's client
 * (which offers) and the subscriber's client (which answers); the server relays what `send` emits
 * (protocol: "Relayed mode" in @convene/protocol media.ts).
 *
 * Descriptions go out without candidates and every candidate is trickled. The offerer holds its own
 * candidates back until it has applied the answer: a libdatachannel offerer (the Node SDK) that receives
 * connectivity checks, and then DTLS, before it holds the answer fails the DTLS certificate check and
 * tears its transport down (see peer.ts). Candidates that arrive before the remote description are
 * queued and applied after it.
 */

/** What RelayLink needs of a peer connection: the W3C subset both runtimes provide (see the adapters). */
export interface RelayPeerAdapter {
  readonly state: PeerState;
  /** Create the offer and apply it locally; resolves with its SDP. */
  createOffer(): Promise<string>;
  /** Apply the remote offer, create the answer and apply it locally; resolves with its SDP. */
  answerOffer(sdp: string): Promise<string>;
  setRemoteAnswer(sdp: string): Promise<void>;
  addRemoteCandidate(c: PeerCandidate): Promise<void>;
  /** Local candidates as they are gathered (null: gathering complete). */
  onLocalCandidate: ((c: PeerCandidate | null) => void) | null;
  onStateChange: ((s: PeerState) => void) | null;
  close(): void;
}

/** What a link sends to the other peer (through the server's `peerSignal`). */
export type RelaySignal = { description: PeerDescription } | { candidate: PeerCandidate };

const log = createLogger('relay');

/** One relayed peer connection's negotiation: offer/answer and trickled candidates, in order. */
export class RelayLink {
  readonly role: 'offerer' | 'answerer';
  readonly peer: RelayPeerAdapter;
  readonly #send: (s: RelaySignal) => void;
  /** Our candidates may go out (offerer: answer applied; answerer: answer sent). */
  #trickling = false;
  readonly #localQueue: PeerCandidate[] = [];
  #remoteSet = false;
  readonly #remoteQueue: PeerCandidate[] = [];
  /** Signals are handled one at a time, in arrival order. */
  #chain: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(peer: RelayPeerAdapter, role: 'offerer' | 'answerer', send: (s: RelaySignal) => void) {
    this.peer = peer;
    this.role = role;
    this.#send = send;
    peer.onLocalCandidate = (c) => {
      // End of candidates needs no message: ICE in both runtimes goes on without it.
      if (c === null || this.#closed) return;
      if (this.#trickling) this.#send({ candidate: c });
      else this.#localQueue.push(c);
    };
  }

  /** Offerer: create and send the offer. */
  start(): Promise<void> {
    return this.#enqueue(async () => {
      const sdp = await this.peer.createOffer();
      if (!this.#closed) this.#send({ description: { type: 'offer', sdp: withoutCandidates(sdp) } });
    });
  }

  /** A description or candidate from the other peer. Rejects when it cannot be applied. */
  receive(signal: { description?: PeerDescription; candidate?: PeerCandidate }): Promise<void> {
    return this.#enqueue(async () => {
      const d = signal.description;
      if (d) {
        if (d.type === 'offer') {
          if (this.role !== 'answerer') throw new TypeError('relay: an offer reached the offering side');
          const answer = await this.peer.answerOffer(d.sdp);
          this.#remoteSet = true;
          await this.#flushRemote();
          if (this.#closed) return;
          this.#send({ description: { type: 'answer', sdp: withoutCandidates(answer) } });
        } else {
          if (this.role !== 'offerer') throw new TypeError('relay: an answer reached the answering side');
          await this.peer.setRemoteAnswer(d.sdp);
          this.#remoteSet = true;
          await this.#flushRemote();
        }
        this.#startTrickle();
      } else if (signal.candidate) {
        if (this.#remoteSet) await this.#addRemote(signal.candidate);
        else this.#remoteQueue.push(signal.candidate);
      }
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.peer.onLocalCandidate = null;
    this.peer.close();
  }

  get closed(): boolean {
    return this.#closed;
  }

  #startTrickle(): void {
    if (this.#trickling || this.#closed) return;
    this.#trickling = true;
    for (const c of this.#localQueue.splice(0)) this.#send({ candidate: c });
  }

  async #flushRemote(): Promise<void> {
    for (const c of this.#remoteQueue.splice(0)) await this.#addRemote(c);
  }

  async #addRemote(c: PeerCandidate): Promise<void> {
    if (this.#closed) return;
    try {
      await this.peer.addRemoteCandidate(c);
    } catch (err) {
      // One unusable candidate (an mDNS name Node cannot resolve, say) must not end the negotiation.
      log.debug({ err, candidate: c.candidate }, 'remote candidate not applied');
    }
  }

  #enqueue(work: () => Promise<void>): Promise<void> {
    const run = this.#chain.then(() => (this.#closed ? undefined : work()));
    this.#chain = run.catch(() => {});
    return run;
  }
}

/** A browser RTCPeerConnection as a {@link RelayPeerAdapter}. */
export class BrowserRelayPeer implements RelayPeerAdapter {
  readonly pc: RTCPeerConnection;
  onLocalCandidate: ((c: PeerCandidate | null) => void) | null = null;
  onStateChange: ((s: PeerState) => void) | null = null;
  #closed = false;

  readonly #munge: ((sdp: string) => string) | undefined;

  /** `munge` rewrites the local offer and the remote answer (Opus stereo/bit rate, see browser/sdp.ts). */
  constructor(pc: RTCPeerConnection, munge?: (sdp: string) => string) {
    this.pc = pc;
    this.#munge = munge;
    pc.addEventListener('icecandidate', (e) => {
      const c = e.candidate;
      if (!c || c.candidate === '') this.onLocalCandidate?.(null);
      else this.onLocalCandidate?.({ candidate: c.candidate, mid: c.sdpMid ?? '0' });
    });
    pc.addEventListener('connectionstatechange', () => {
      if (!this.#closed) this.onStateChange?.(pc.connectionState as PeerState);
    });
  }

  get state(): PeerState {
    return this.#closed ? 'closed' : (this.pc.connectionState as PeerState);
  }

  async createOffer(): Promise<string> {
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(this.#munge && offer.sdp ? { type: 'offer', sdp: this.#munge(offer.sdp) } : offer);
    return this.pc.localDescription?.sdp ?? '';
  }

  async answerOffer(sdp: string): Promise<string> {
    await this.pc.setRemoteDescription({ type: 'offer', sdp });
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    return this.pc.localDescription?.sdp ?? '';
  }

  async setRemoteAnswer(sdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp: this.#munge ? this.#munge(sdp) : sdp });
  }

  async addRemoteCandidate(c: PeerCandidate): Promise<void> {
    const candidate = c.candidate.startsWith('a=') ? c.candidate.slice(2) : c.candidate;
    await this.pc.addIceCandidate({ candidate, sdpMid: c.mid });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.pc.close();
    } catch {
      // already closed
    }
  }
}

/** The part of NodePeerConnection a relay uses (structural: this file imports nothing from Node). */
export interface NodeRelayPeerLike {
  readonly connectionState: PeerState;
  on(event: 'connectionstatechange', listener: (state: PeerState) => void): unknown;
  on(event: 'icecandidate', listener: (c: { candidate: string; sdpMid: string } | null) => void): unknown;
  createOffer(): Promise<{ sdp: string }>;
  createAnswer(): Promise<{ sdp: string }>;
  setRemoteDescription(desc: { type: 'offer' | 'answer'; sdp: string }): Promise<void>;
  addIceCandidate(c: { candidate: string; sdpMid: string }): Promise<void>;
  close(): void;
}

/** A NodePeerConnection (created with `trickle: true`) as a {@link RelayPeerAdapter}. */
export class NodeRelayPeer implements RelayPeerAdapter {
  readonly pc: NodeRelayPeerLike;
  onLocalCandidate: ((c: PeerCandidate | null) => void) | null = null;
  onStateChange: ((s: PeerState) => void) | null = null;

  constructor(pc: NodeRelayPeerLike) {
    this.pc = pc;
    pc.on('icecandidate', (c) => this.onLocalCandidate?.(c ? { candidate: c.candidate, mid: c.sdpMid } : null));
    pc.on('connectionstatechange', (s) => this.onStateChange?.(s));
  }

  get state(): PeerState {
    return this.pc.connectionState;
  }

  async createOffer(): Promise<string> {
    return (await this.pc.createOffer()).sdp;
  }

  async answerOffer(sdp: string): Promise<string> {
    await this.pc.setRemoteDescription({ type: 'offer', sdp });
    return (await this.pc.createAnswer()).sdp;
  }

  async setRemoteAnswer(sdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp });
  }

  async addRemoteCandidate(c: PeerCandidate): Promise<void> {
    await this.pc.addIceCandidate({ candidate: c.candidate, sdpMid: c.mid });
  }

  close(): void {
    this.pc.close();
  }
}
