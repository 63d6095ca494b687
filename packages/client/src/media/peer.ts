/*
 * The small peer-connection interface the Session drives: one offer, one answer, a state.
 * The client always offers (publish: sendonly; subscribe: recvonly), the SFU answers with every
 * candidate inside, so no trickle is needed in either direction.
 *
 * Offers go out WITHOUT the client's candidates: the client (ICE controlling) checks the SFU's
 * candidates from the answer and the SFU learns the client's address from those checks (peer
 * reflexive), as with an ICE-lite server. Two reasons: no wait for gathering (faster first frame),
 * and no early checks from the SFU. With candidates in the offer the SFU starts checks at once; a
 * libdatachannel client answers them, connects ICE and starts DTLS before it holds the answer,
 * fails the certificate check, and tears its transport down ("Got a remote candidate without ICE
 * transport" when the answer arrives) — seen here in about half of the Node publishes. Chrome's
 * mDNS host candidates, which the SFU could not resolve anyway, are avoided too. In a browser it wraps the native
 * RTCPeerConnection; in Node it wraps NodePeerConnection from `@convene/client/node` (loaded with
 * a dynamic import bundlers do not follow, so a browser bundle never contains node-datachannel).
 */

/** Connection state, with the W3C names. */
export type PeerState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';

/** What the Session needs of a peer connection. */
export interface MediaPeer {
  readonly state: PeerState;
  /** Called on every state change. */
  onStateChange: ((state: PeerState) => void) | null;
  /** Create and apply the local offer (after `munge`, if given); resolves with its SDP, candidates removed. */
  offer(munge?: (sdp: string) => string): Promise<string>;
  /** Apply the SFU's answer. */
  answer(sdp: string): Promise<void>;
  /** Idempotent. */
  close(): void;
}

/** The SDP without candidate lines (see the file comment). */
export function withoutCandidates(sdp: string): string {
  return sdp
    .split(/\r\n|\n/)
    .filter((l) => !l.startsWith('a=candidate:') && l !== 'a=end-of-candidates')
    .join('\r\n');
}

/** A native RTCPeerConnection behind {@link MediaPeer}. */
export class BrowserPeer implements MediaPeer {
  readonly pc: RTCPeerConnection;
  onStateChange: ((state: PeerState) => void) | null = null;
  #closed = false;

  constructor(pc: RTCPeerConnection) {
    this.pc = pc;
    pc.addEventListener('connectionstatechange', () => {
      if (!this.#closed) this.onStateChange?.(pc.connectionState as PeerState);
    });
  }

  get state(): PeerState {
    return this.#closed ? 'closed' : (this.pc.connectionState as PeerState);
  }

  async offer(munge?: (sdp: string) => string): Promise<string> {
    const pc = this.pc;
    const offer = await pc.createOffer();
    await pc.setLocalDescription(munge && offer.sdp ? { type: 'offer', sdp: munge(offer.sdp) } : offer);
    const sdp = pc.localDescription?.sdp;
    if (!sdp) throw new Error('no local description');
    return withoutCandidates(sdp);
  }

  async answer(sdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp });
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

/** The part of NodePeerConnection the Session uses (structural, so this file imports nothing from Node). */
export interface NodePeerLike {
  readonly connectionState: PeerState;
  on(event: 'connectionstatechange', listener: (state: PeerState) => void): unknown;
  createOffer(): Promise<{ type: 'offer' | 'answer'; sdp: string }>;
  setRemoteDescription(desc: { type: 'offer' | 'answer'; sdp: string }): Promise<void>;
  close(): void;
}

/** A NodePeerConnection behind {@link MediaPeer}. */
export class NodePeer implements MediaPeer {
  readonly pc: NodePeerLike;
  onStateChange: ((state: PeerState) => void) | null = null;

  constructor(pc: NodePeerLike) {
    this.pc = pc;
    pc.on('connectionstatechange', (s) => this.onStateChange?.(s));
  }

  get state(): PeerState {
    return this.pc.connectionState;
  }

  async offer(): Promise<string> {
    return withoutCandidates((await this.pc.createOffer()).sdp);
  }

  async answer(sdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp });
  }

  close(): void {
    this.pc.close();
  }
}

/** Whether this runtime has WebRTC in a page (the browser media layer applies). */
export function hasBrowserMedia(): boolean {
  const g = globalThis as { RTCPeerConnection?: unknown; document?: unknown };
  return typeof g.RTCPeerConnection === 'function' && typeof g.document === 'object' && g.document !== null;
}

type NodeMediaModule = typeof import('./node/index.js');
let nodeMedia: Promise<NodeMediaModule> | undefined;

/**
 * `@convene/client/node`, loaded on first use. The specifier is a variable so bundlers leave it
 * alone: a browser bundle never contains node-datachannel.
 */
export function loadNodeMedia(): Promise<NodeMediaModule> {
  nodeMedia ??= (async () => {
    const specifier = '@convene/client/node';
    return (await import(/* @vite-ignore */ specifier)) as NodeMediaModule;
  })();
  return nodeMedia;
}
