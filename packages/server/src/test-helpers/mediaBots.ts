// Node media bots for server tests: the SDK's Node peer connection (synthetic VP8/Opus) driven over the raw
// signaling socket of TestClient, so the server is exercised exactly as a client would use the protocol.
import { NodePeerConnection, type RemoteTrack } from '@convene/client/node';
import type { Frame, TestClient } from './wsClient.js';

/**
 * A libdatachannel offerer that lists its candidates lets the SFU start ICE checks, and then DTLS, before the
 * offerer holds the answer; its certificate check then fails. Without candidates in the offer the SFU learns
 * the bot's address from the bot's own checks, which start only once the bot has the answer. (Browsers hold
 * an early handshake until the answer arrives and need none of this.)
 */
function withoutCandidates(sdp: string): string {
  return sdp
    .split('\r\n')
    .filter((l) => !l.startsWith('a=candidate:'))
    .join('\r\n');
}

export interface PublishOptions {
  audio?: boolean;
  video?: boolean;
  name?: string;
  videoType?: 'camera' | 'screen' | 'custom';
  hasAudio?: boolean;
  hasVideo?: boolean;
}

/** A bot publishing one stream. */
export interface PublishedBot {
  pc: NodePeerConnection;
  /** The `ok` or `error` frame of the publish request. */
  response: Frame;
  streamId: string;
  stream: Record<string, unknown>;
  audioMuted: boolean;
  /** Resolves when the peer connection is connected. */
  connected: Promise<void>;
}

function whenConnected(pc: NodePeerConnection, timeoutMs = 10_000): Promise<void> {
  if (pc.connectionState === 'connected') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`peer connection not connected after ${timeoutMs} ms (${pc.connectionState})`)), timeoutMs);
    const on = (s: string): void => {
      if (s === 'connected') {
        clearTimeout(timer);
        pc.off('connectionstatechange', on);
        resolve();
      } else if (s === 'failed' || s === 'closed') {
        clearTimeout(timer);
        pc.off('connectionstatechange', on);
        reject(new Error(`peer connection ${s}`));
      }
    };
    pc.on('connectionstatechange', on);
  });
}

/** Publish synthetic media through `c`. Returns the response even when it is an error (pc then closed). */
export async function publish(c: TestClient, opts: PublishOptions = {}): Promise<PublishedBot> {
  const pc = new NodePeerConnection({ bindAddress: '127.0.0.1', name: 'bot-pub' });
  if (opts.video ?? true) pc.addVideoSource({ width: 320, height: 240, fps: 30, bitrate: 300_000, keyframeIntervalMs: 10_000 });
  if (opts.audio ?? true) pc.addAudioSource();
  const offer = await pc.createOffer();
  const response = await c.request('publish', {
    sdp: withoutCandidates(offer.sdp),
    name: opts.name,
    videoType: opts.videoType,
    hasAudio: opts.hasAudio,
    hasVideo: opts.hasVideo,
  });
  if (response.type !== 'ok') {
    pc.close();
    return { pc, response, streamId: '', stream: {}, audioMuted: false, connected: Promise.resolve() };
  }
  const result = response.result as { stream: Record<string, unknown>; sdp: string; audioMuted: boolean };
  const connected = whenConnected(pc);
  connected.catch(() => {});
  await pc.setRemoteDescription({ type: 'answer', sdp: result.sdp });
  return { pc, response, streamId: result.stream.streamId as string, stream: result.stream, audioMuted: result.audioMuted, connected };
}

/** A bot subscribed to one stream. */
export interface SubscribedBot {
  pc: NodePeerConnection;
  response: Frame;
  subscriberId: string;
  audio: RemoteTrack | undefined;
  video: RemoteTrack | undefined;
  connected: Promise<void>;
}

export interface SubscribeOptions {
  audio?: boolean;
  video?: boolean;
  subscribeToAudio?: boolean;
  subscribeToVideo?: boolean;
  preferredResolution?: { width: number; height: number } | null;
  preferredFrameRate?: number | null;
}

/** Subscribe to `streamId` through `c`, offering recvonly audio and/or video. */
export async function subscribe(c: TestClient, streamId: string, opts: SubscribeOptions = {}): Promise<SubscribedBot> {
  const pc = new NodePeerConnection({ bindAddress: '127.0.0.1', name: 'bot-sub' });
  const audio = (opts.audio ?? true) ? pc.addReceiver('audio') : undefined;
  const video = (opts.video ?? true) ? pc.addReceiver('video') : undefined;
  const offer = await pc.createOffer();
  const response = await c.request('subscribe', {
    streamId,
    sdp: withoutCandidates(offer.sdp),
    subscribeToAudio: opts.subscribeToAudio,
    subscribeToVideo: opts.subscribeToVideo,
    preferredResolution: opts.preferredResolution,
    preferredFrameRate: opts.preferredFrameRate,
  });
  if (response.type !== 'ok') {
    pc.close();
    return { pc, response, subscriberId: '', audio, video, connected: Promise.resolve() };
  }
  const result = response.result as { subscriberId: string; sdp: string };
  const connected = whenConnected(pc);
  connected.catch(() => {});
  await pc.setRemoteDescription({ type: 'answer', sdp: result.sdp });
  return { pc, response, subscriberId: result.subscriberId, audio, video, connected };
}

/** Poll `pred` every 10 ms until true; rejects after `timeoutMs` naming `what`. */
export async function until(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
