import { describe, expect, it } from 'vitest';
import { OT } from '../../index.js';
import { withoutCandidates } from '../peer.js';
import { NodePublisher } from './NodePublisher.js';

describe('NodePublisher (OT.initPublisher in Node)', () => {
  it('announces its synthetic media in the stream settings: camera 640x480@30 by default', () => {
    const p = new NodePublisher({ name: 'bot' });
    expect(p._streamSettings()).toEqual({ name: 'bot', hasAudio: true, hasVideo: true, videoType: 'camera', videoDimensions: { width: 640, height: 480 }, frameRate: 30 });
  });

  it("videoSource 'screen' is videoType screen; null sources and publishAudio/Video(false) are reflected", () => {
    expect(new NodePublisher({ videoSource: 'screen', audioSource: null })._streamSettings()).toMatchObject({ hasAudio: false, hasVideo: true, videoType: 'screen' });
    expect(new NodePublisher({ videoSource: null })._streamSettings()).toMatchObject({ hasVideo: false, videoType: null, videoDimensions: null, frameRate: null });
    expect(new NodePublisher({ publishAudio: false, publishVideo: false })._streamSettings()).toMatchObject({ hasAudio: false, hasVideo: false, videoType: 'camera' });
  });

  it('publishAudio/publishVideo report the change to the Session glue only when it changes', () => {
    const p = new NodePublisher();
    const seen: unknown[][] = [];
    p._internal.on('propertyChanged', (...args) => seen.push(args));
    p.publishVideo(false).publishVideo(false).publishAudio(false).publishVideo(true);
    expect(seen).toEqual([
      ['hasVideo', true, false],
      ['hasAudio', true, false],
      ['hasVideo', false, true],
    ]);
  });

  it('rejects invalid properties with OT_INVALID_PARAMETER', () => {
    expect(() => new NodePublisher({ resolution: 'big' })).toThrow(expect.objectContaining({ name: 'OT_INVALID_PARAMETER' }));
    expect(() => new NodePublisher({ frameRate: 0 })).toThrow(expect.objectContaining({ name: 'OT_INVALID_PARAMETER' }));
    expect(() => new NodePublisher({ videoSource: 'camera-1' as never })).toThrow(expect.objectContaining({ name: 'OT_INVALID_PARAMETER' }));
  });

  it('OT.initPublisher in Node returns a NodePublisher and reports errors to its completion handler', async () => {
    const ok = await new Promise<{ p: unknown; err: unknown }>((resolve) => {
      const p = OT.initPublisher(null, { name: 'x' }, (err) => resolve({ p, err }));
    });
    expect(ok.p).toBeInstanceOf(NodePublisher);
    expect(ok.err).toBeUndefined();
    const bad = await new Promise<Error | undefined>((resolve) => OT.initPublisher(null, { resolution: 'nope' }, resolve));
    expect(bad?.name).toBe('OT_INVALID_PARAMETER');
  });

  it('_streamDestroyed dispatches streamDestroyed and, unless prevented, destroys the publisher', () => {
    const stream = { streamId: 's', name: '', hasAudio: true, hasVideo: true, videoType: 'camera' as const, videoDimensions: null, frameRate: 30 };
    const kept = new NodePublisher();
    kept._streamCreated({}, stream);
    kept.once('streamDestroyed', (e) => e.preventDefault());
    const keptDestroyed: unknown[] = [];
    kept.on('destroyed', (e) => keptDestroyed.push(e));
    expect(kept._streamDestroyed('unpublished')).toBe(true);
    expect(keptDestroyed).toEqual([]);
    const gone = new NodePublisher();
    gone._streamCreated({}, stream);
    const reasons: unknown[] = [];
    gone.on('destroyed', (e) => reasons.push(e.reason));
    expect(gone._streamDestroyed('forceUnpublished')).toBe(false);
    expect(reasons).toEqual(['forceUnpublished']);
  });
});

describe('withoutCandidates', () => {
  it('removes candidate and end-of-candidates lines and keeps everything else', () => {
    const sdp = ['v=0', 'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=mid:0', 'a=candidate:1 1 udp 2122260223 10.0.0.1 5000 typ host', 'a=end-of-candidates', 'a=rtpmap:111 opus/48000/2', ''].join('\r\n');
    expect(withoutCandidates(sdp)).toBe(['v=0', 'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=mid:0', 'a=rtpmap:111 opus/48000/2', ''].join('\r\n'));
  });
});
