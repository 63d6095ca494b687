import { describe, expect, it } from 'vitest';
import { limits } from './limits.js';
import { parseClientMessage } from './validate.js';

const parse = (o: Record<string, unknown>) => parseClientMessage(JSON.stringify({ v: 1, id: 3, ...o }));
const SDP = 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n';
const badRequest = (message: RegExp | string) => ({
  ok: false,
  id: 3,
  error: { name: 'OT_BAD_REQUEST', code: 400, message: typeof message === 'string' ? expect.stringContaining(message) : expect.stringMatching(message) },
});

describe('media requests in parseClientMessage', () => {
  it('accepts a full publish and copies only known fields', () => {
    const r = parse({ type: 'publish', sdp: SDP, name: 'cam', hasAudio: true, hasVideo: false, videoType: 'screen', videoDimensions: { width: 1280, height: 720, x: 1 }, frameRate: 30, extra: 1 });
    expect(r).toEqual({
      ok: true,
      message: { v: 1, type: 'publish', id: 3, sdp: SDP, name: 'cam', hasAudio: true, hasVideo: false, videoType: 'screen', videoDimensions: { width: 1280, height: 720 }, frameRate: 30 },
    });
  });

  it('accepts a publish with only an sdp (the server derives the rest)', () => {
    expect(parse({ type: 'publish', sdp: SDP })).toMatchObject({ ok: true, message: { type: 'publish', sdp: SDP } });
  });

  it('rejects a publish with neither an SDP nor tracks, or with something that is not an SDP', () => {
    expect(parse({ type: 'publish' })).toMatchObject(badRequest('sdp offer (routed sessions) or tracks (relayed sessions)'));
    expect(parse({ type: 'publish', sdp: 'hello' })).toMatchObject(badRequest('v=0'));
  });

  it(`rejects an SDP over ${limits.sdpMaxBytes} bytes with OT_MESSAGE_TOO_LARGE 413`, () => {
    const sdp = SDP + 'a=x:' + 'y'.repeat(limits.sdpMaxBytes) + '\r\n';
    expect(parse({ type: 'publish', sdp })).toMatchObject({ ok: false, id: 3, error: { name: 'OT_MESSAGE_TOO_LARGE', code: 413 } });
    expect(parse({ type: 'subscribe', streamId: 's', sdp })).toMatchObject({ ok: false, error: { code: 413 } });
  });

  it('rejects wrong publish field types, naming the field', () => {
    expect(parse({ type: 'publish', sdp: SDP, hasAudio: 'yes' })).toMatchObject(badRequest('hasAudio'));
    expect(parse({ type: 'publish', sdp: SDP, videoType: 'hologram' })).toMatchObject(badRequest('videoType'));
    expect(parse({ type: 'publish', sdp: SDP, videoDimensions: { width: 0, height: 10 } })).toMatchObject(badRequest('videoDimensions'));
    expect(parse({ type: 'publish', sdp: SDP, frameRate: -1 })).toMatchObject(badRequest('frameRate'));
    expect(parse({ type: 'publish', sdp: SDP, name: 'n'.repeat(limits.streamNameMaxLength + 1) })).toMatchObject(badRequest('name'));
  });

  it('accepts unpublish with the optional reason mediaStopped and nothing else', () => {
    expect(parse({ type: 'unpublish', streamId: 's1' })).toEqual({ ok: true, message: { v: 1, type: 'unpublish', id: 3, streamId: 's1', reason: undefined } });
    expect(parse({ type: 'unpublish', streamId: 's1', reason: 'mediaStopped' })).toMatchObject({ ok: true, message: { reason: 'mediaStopped' } });
    expect(parse({ type: 'unpublish', streamId: 's1', reason: 'forceUnpublished' })).toMatchObject(badRequest('reason'));
    expect(parse({ type: 'unpublish' })).toMatchObject(badRequest('streamId'));
  });

  it('accepts subscribe with preferences and validates them', () => {
    const ok = parse({ type: 'subscribe', streamId: 's1', sdp: SDP, subscribeToAudio: false, preferredResolution: { width: 320, height: 240 }, preferredFrameRate: 15 });
    expect(ok).toMatchObject({ ok: true, message: { type: 'subscribe', streamId: 's1', subscribeToAudio: false, preferredResolution: { width: 320, height: 240 }, preferredFrameRate: 15 } });
    expect(parse({ type: 'subscribe', streamId: 's1', sdp: SDP, preferredResolution: null, preferredFrameRate: null }).ok).toBe(true);
    // Relayed sessions subscribe without an SDP; routed sessions refuse that (the server knows the mode).
    expect(parse({ type: 'subscribe', streamId: 's1' })).toMatchObject({ ok: true, message: { type: 'subscribe', streamId: 's1', sdp: undefined } });
    expect(parse({ type: 'subscribe', streamId: 's1', sdp: 'x' })).toMatchObject(badRequest('subscribe.sdp'));
    expect(parse({ type: 'subscribe', sdp: SDP })).toMatchObject(badRequest('streamId'));
    expect(parse({ type: 'subscribe', streamId: 's1', sdp: SDP, preferredResolution: '720p' })).toMatchObject(badRequest('preferredResolution'));
    expect(parse({ type: 'subscribe', streamId: 's1', sdp: SDP, preferredFrameRate: 'fast' })).toMatchObject(badRequest('preferredFrameRate'));
    expect(parse({ type: 'subscribe', streamId: 's1', sdp: SDP, subscribeToVideo: 1 })).toMatchObject(badRequest('subscribeToVideo'));
  });

  it('accepts a relayed publish with tracks instead of an SDP, and checks their shape', () => {
    expect(parse({ type: 'publish', tracks: { audio: true, video: false, x: 1 } })).toMatchObject({ ok: true, message: { type: 'publish', sdp: undefined, tracks: { audio: true, video: false } } });
    expect(parse({ type: 'publish', tracks: { audio: 'yes', video: false } })).toMatchObject(badRequest('publish.tracks'));
    expect(parse({ type: 'publish', tracks: [true, true] })).toMatchObject(badRequest('publish.tracks'));
  });

  it('accepts peerSignal with exactly one of description and candidate, and bounds them', () => {
    expect(parse({ type: 'peerSignal', subscriberId: 'x', description: { type: 'offer', sdp: SDP } })).toEqual({
      ok: true,
      message: { v: 1, type: 'peerSignal', id: 3, subscriberId: 'x', description: { type: 'offer', sdp: SDP } },
    });
    expect(parse({ type: 'peerSignal', subscriberId: 'x', candidate: { candidate: 'candidate:1 1 udp 1 10.0.0.1 5000 typ host', mid: '0' } })).toMatchObject({
      ok: true,
      message: { candidate: { candidate: 'candidate:1 1 udp 1 10.0.0.1 5000 typ host', mid: '0' } },
    });
    expect(parse({ type: 'peerSignal', subscriberId: 'x', candidate: { candidate: '', mid: '0' } }).ok).toBe(true);
    expect(parse({ type: 'peerSignal', subscriberId: 'x' })).toMatchObject(badRequest('exactly one'));
    expect(parse({ type: 'peerSignal', subscriberId: 'x', description: { type: 'answer', sdp: SDP }, candidate: { candidate: '', mid: '0' } })).toMatchObject(badRequest('exactly one'));
    expect(parse({ type: 'peerSignal', subscriberId: 'x', description: { type: 'pranswer', sdp: SDP } })).toMatchObject(badRequest('description'));
    expect(parse({ type: 'peerSignal', subscriberId: 'x', description: { type: 'offer', sdp: 'nope' } })).toMatchObject(badRequest('v=0'));
    expect(parse({ type: 'peerSignal', subscriberId: 'x', description: { type: 'offer', sdp: SDP + 'a=x:' + 'y'.repeat(limits.sdpMaxBytes) } })).toMatchObject({
      ok: false,
      error: { code: 413 },
    });
    expect(parse({ type: 'peerSignal', subscriberId: 'x', candidate: { candidate: 'hello', mid: '0' } })).toMatchObject(badRequest('candidate:'));
    expect(parse({ type: 'peerSignal', subscriberId: 'x', candidate: { candidate: 'candidate:' + '1'.repeat(limits.candidateMaxLength), mid: '0' } })).toMatchObject(badRequest('peerSignal.candidate'));
    expect(parse({ type: 'peerSignal', candidate: { candidate: '', mid: '0' } })).toMatchObject(badRequest('subscriberId'));
  });

  it('accepts unsubscribe and subscription updates by subscriberId', () => {
    expect(parse({ type: 'unsubscribe', subscriberId: 'x' })).toMatchObject({ ok: true, message: { type: 'unsubscribe', subscriberId: 'x' } });
    expect(parse({ type: 'subscription', subscriberId: 'x', subscribeToVideo: false })).toMatchObject({ ok: true, message: { subscribeToVideo: false } });
    expect(parse({ type: 'subscription', subscriberId: 'x', subscribeToAudio: 'no' })).toMatchObject(badRequest('subscribeToAudio'));
    expect(parse({ type: 'unsubscribe', subscriberId: 'x'.repeat(129) })).toMatchObject(badRequest('subscriberId'));
  });

  it('accepts candidate with target, candidate and mid, and bounds their size', () => {
    const c = 'candidate:1 1 UDP 2122317823 127.0.0.1 45000 typ host';
    expect(parse({ type: 'candidate', target: 's1', candidate: c, mid: '0' })).toEqual({ ok: true, message: { v: 1, type: 'candidate', id: 3, target: 's1', candidate: c, mid: '0' } });
    expect(parse({ type: 'candidate', target: 's1', candidate: c })).toMatchObject(badRequest('mid'));
    expect(parse({ type: 'candidate', target: 's1', candidate: 'c'.repeat(limits.candidateMaxLength + 1), mid: '0' })).toMatchObject(badRequest('candidate.candidate'));
  });

  it('accepts streamUpdate and validates its properties', () => {
    expect(parse({ type: 'streamUpdate', streamId: 's1', hasAudio: false, videoType: 'custom' })).toMatchObject({ ok: true, message: { hasAudio: false, videoType: 'custom' } });
    expect(parse({ type: 'streamUpdate', streamId: 's1', hasVideo: 'off' })).toMatchObject(badRequest('hasVideo'));
    expect(parse({ type: 'streamUpdate', streamId: 's1', videoDimensions: [640, 480] })).toMatchObject(badRequest('videoDimensions'));
  });

  it('accepts the moderation requests and defaults forceMuteAll.excludedStreamIds to []', () => {
    expect(parse({ type: 'forceUnpublish', streamId: 's1' })).toMatchObject({ ok: true, message: { type: 'forceUnpublish', streamId: 's1' } });
    expect(parse({ type: 'forceMuteStream', streamId: 's1' })).toMatchObject({ ok: true, message: { type: 'forceMuteStream', streamId: 's1' } });
    expect(parse({ type: 'forceMuteAll' })).toEqual({ ok: true, message: { v: 1, type: 'forceMuteAll', id: 3, excludedStreamIds: [] } });
    expect(parse({ type: 'forceMuteAll', excludedStreamIds: ['a', 'b'] })).toMatchObject({ ok: true, message: { excludedStreamIds: ['a', 'b'] } });
    expect(parse({ type: 'disableForceMute' })).toEqual({ ok: true, message: { v: 1, type: 'disableForceMute', id: 3 } });
  });

  it('rejects malformed moderation requests', () => {
    expect(parse({ type: 'forceUnpublish' })).toMatchObject(badRequest('streamId'));
    expect(parse({ type: 'forceMuteStream', streamId: 5 })).toMatchObject(badRequest('streamId'));
    expect(parse({ type: 'forceMuteAll', excludedStreamIds: 'a' })).toMatchObject(badRequest('excludedStreamIds'));
    expect(parse({ type: 'forceMuteAll', excludedStreamIds: [1] })).toMatchObject(badRequest('excludedStreamIds'));
    expect(parse({ type: 'forceMuteAll', excludedStreamIds: new Array(limits.excludedStreamsMax + 1).fill('s') })).toMatchObject(badRequest('excludedStreamIds'));
  });
});
