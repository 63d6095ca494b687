import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initSession, OT, type Session } from '../index.js';
import type { NodePublisher } from '../media/node/NodePublisher.js';
import { API_KEY, hasChromium, startE2E, type E2E } from './test-helpers/e2e.js';

/*
 * Media end to end in real headless Chromium (fake camera and microphone) through our SFU: pages load
 * /sdk/convene.js from a real server on port 0 and use the global OT exactly as an application would.
 */

let e2e: E2E;
/** connectionIds whose video the SFU's test hook drops 5 % of (first transmissions only). */
const lossy = new Set<string>();
const open: Page[] = [];
let n = 0;
const name = (): string => `e2e-media-${++n}-${Date.now()}`;

beforeAll(async () => {
  if (!hasChromium) return;
  e2e = await startE2E({ server: { testHooks: { dropToSubscriber: (s) => (lossy.has(s.connectionId) ? 0.05 : 0) } } });
}, 60_000);
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close().catch(() => undefined)));
});
afterAll(async () => {
  await e2e?.close();
});

async function page(): Promise<Page> {
  const p = await e2e.page();
  open.push(p);
  return p;
}

/** A page connected to `sid` as `window.session`. */
async function joined(sid: string, role: 'publisher' | 'moderator' | 'subscriber' = 'publisher'): Promise<Page> {
  const p = await page();
  const token = await e2e.token(sid, { role });
  await p.evaluate(
    async ({ apiKey, sid, token }) => {
      const w = window as any;
      w.session = w.OT.initSession(apiKey, sid);
      await w.e2e.connect(w.session, token);
    },
    { apiKey: API_KEY, sid, token },
  );
  return p;
}

/** Publish the fake camera from `p` as `window.publisher`; returns the streamId. */
async function publishCamera(p: Page, props: Record<string, unknown> = {}): Promise<string> {
  return p.evaluate(async (props) => {
    const w = window as any;
    w.publisher = await w.e2e.publish(w.session, 'publisher', { name: 'camera', width: 320, height: 240, ...props });
    return w.publisher.stream.streamId as string;
  }, props);
}

/** Subscribe on `p` to `streamId` (waiting for it to be known) as `window.sub`. */
async function subscribeTo(p: Page, streamId: string, props: Record<string, unknown> = {}): Promise<void> {
  await p.evaluate(
    async ({ streamId, props }) => {
      const w = window as any;
      const stream = await w.e2e.waitFor(() => w.session.streams.find((s: any) => s.streamId === streamId), 10000, 'the stream');
      w.sub = await w.e2e.subscribe(w.session, stream, 'subscribers', { insertMode: 'append', ...props });
    },
    { streamId, props },
  );
}

/** Inbound video/audio counters of `window.sub` now. */
function inbound(p: Page): Promise<{ framesDecoded: number; samples: number; nackCount: number; packetsLost: number; freezeCount: number; totalFreezesDuration: number; keyFramesDecoded: number }> {
  return p.evaluate(async () => {
    const w = window as any;
    const s = await w.e2e.inbound(w.sub);
    return {
      framesDecoded: s.video?.framesDecoded ?? 0,
      keyFramesDecoded: s.video?.keyFramesDecoded ?? 0,
      nackCount: s.video?.nackCount ?? 0,
      packetsLost: s.video?.packetsLost ?? 0,
      freezeCount: s.video?.freezeCount ?? 0,
      totalFreezesDuration: s.video?.totalFreezesDuration ?? 0,
      samples: s.audio?.totalSamplesReceived ?? 0,
    };
  });
}

/** Poll `window.sub` until video frames and audio samples both rise by at least the given amounts. */
async function expectFlowing(p: Page, frames = 20, samples = 48_000): Promise<void> {
  const a = await inbound(p);
  await p.evaluate(
    async ({ a, frames, samples }) => {
      const w = window as any;
      await w.e2e.waitFor(async () => {
        const s = await w.e2e.inbound(w.sub);
        return (s.video?.framesDecoded ?? 0) >= a.framesDecoded + frames && (s.audio?.totalSamplesReceived ?? 0) >= a.samples + samples;
      }, 10000, 'decoded frames and audio samples');
    },
    { a, frames, samples },
  );
}

describe.skipIf(!hasChromium)('media in Chromium through the SFU', () => {
  it('page A publishes, page B subscribes: framesDecoded rises and audio samples arrive', async () => {
    const sid = name();
    const a = await joined(sid);
    const b = await joined(sid);
    const streamId = await publishCamera(a);
    await subscribeTo(b, streamId);
    await expectFlowing(b);
    // The fake camera captures 640x480 (the publisher's default resolution); 320x240 is only its display size.
    // Simulcast (native transport): the full-size layer follows once the publisher's bandwidth estimate allows it.
    const dom = await b.evaluate(async () => {
      const w = window as any;
      const video = w.sub.element.querySelector('video') as HTMLVideoElement;
      await w.e2e.waitFor(() => video.videoWidth === 640, 20000, 'the full-size video').catch(() => undefined);
      return { inDocument: document.contains(video), width: video.videoWidth, parent: w.sub.element.parentElement.id };
    });
    expect(dom).toEqual({ inDocument: true, width: 640, parent: 'subscribers' });
  });

  it('publishVideo(false) reaches the subscriber as streamPropertyChanged hasVideo true -> false and videoDisabled', async () => {
    const sid = name();
    const a = await joined(sid);
    const b = await joined(sid);
    const streamId = await publishCamera(a);
    await subscribeTo(b, streamId);
    const changed = b.evaluate(async () => {
      const w = window as any;
      const [e, d] = await Promise.all([w.e2e.nextEvent(w.session, 'streamPropertyChanged'), w.e2e.nextEvent(w.sub, 'videoDisabled')]);
      return { property: e.changedProperty, oldValue: e.oldValue, newValue: e.newValue, hasVideo: e.stream.hasVideo, reason: d.reason };
    });
    await a.evaluate(() => (window as any).publisher.publishVideo(false));
    expect(await changed).toEqual({ property: 'hasVideo', oldValue: true, newValue: false, hasVideo: false, reason: 'publishVideo' });
  });

  it('unpublish(): B gets streamDestroyed and its subscriber is removed; the publisher element leaves A\'s page', async () => {
    const sid = name();
    const a = await joined(sid);
    const b = await joined(sid);
    const streamId = await publishCamera(a);
    await subscribeTo(b, streamId);
    const gone = b.evaluate(async () => {
      const w = window as any;
      const e = await w.e2e.nextEvent(w.session, 'streamDestroyed');
      await w.e2e.waitFor(() => w.sub.element === undefined, 5000, 'subscriber removal');
      return { reason: e.reason, left: document.querySelectorAll('#subscribers video').length };
    });
    const onA = await a.evaluate(async () => {
      const w = window as any;
      const id = w.publisher.id;
      const before = document.getElementById(id) !== null;
      const destroyed = w.e2e.nextEvent(w.publisher, 'streamDestroyed');
      w.session.unpublish(w.publisher);
      const e = await destroyed;
      return { before, after: document.getElementById(id) !== null, reason: e.reason, videos: document.querySelectorAll('video').length };
    });
    expect(onA).toEqual({ before: true, after: false, reason: 'unpublished', videos: 0 });
    expect(await gone).toEqual({ reason: 'unpublished', left: 0 });
  });

  it('forceUnpublish by a moderator: streamDestroyed with reason forceUnpublished on every page', async () => {
    const sid = name();
    const mod = await joined(sid, 'moderator');
    const a = await joined(sid);
    const b = await joined(sid);
    const streamId = await publishCamera(a);
    await subscribeTo(b, streamId);
    const waits = [mod, a, b].map((p) =>
      p.evaluate(() => {
        const w = window as any;
        return w.e2e.nextEvent(w.session, 'streamDestroyed').then((e: any) => e.reason);
      }),
    );
    const pubReason = a.evaluate(() => {
      const w = window as any;
      return w.e2e.nextEvent(w.publisher, 'streamDestroyed').then((e: any) => e.reason);
    });
    await mod.evaluate(async (streamId) => {
      const w = window as any;
      const stream = await w.e2e.waitFor(() => w.session.streams.find((s: any) => s.streamId === streamId));
      await w.session.forceUnpublish(stream);
    }, streamId);
    expect(await Promise.all(waits)).toEqual(['forceUnpublished', 'forceUnpublished', 'forceUnpublished']);
    expect(await pubReason).toBe('forceUnpublished');
  });

  it('forceMuteAll: muteForced on the Publisher and every Session, audio track disabled, a new stream starts muted; disableForceMute ends it', async () => {
    const sid = name();
    const mod = await joined(sid, 'moderator');
    const a = await joined(sid);
    const streamId = await publishCamera(a);
    const onA = a.evaluate(async () => {
      const w = window as any;
      const [pub, sess] = await Promise.all([w.e2e.nextEvent(w.publisher, 'muteForced'), w.e2e.nextEvent(w.session, 'muteForced')]);
      await w.e2e.waitFor(() => w.publisher.stream.hasAudio === false, 5000, 'hasAudio false');
      return { pub: pub.type, active: sess.active, trackEnabled: w.publisher.getAudioSource().enabled };
    });
    const onMod = mod.evaluate(async (streamId) => {
      const w = window as any;
      const muted = w.e2e.nextEvent(w.session, 'muteForced');
      const changed = w.e2e.nextEvent(w.session, 'streamPropertyChanged', 10000, (e: any) => e.stream.streamId === streamId && e.changedProperty === 'hasAudio');
      await w.session.forceMuteAll();
      const [m, c] = await Promise.all([muted, changed]);
      return { active: m.active, newValue: c.newValue };
    }, streamId);
    expect(await onMod).toEqual({ active: true, newValue: false });
    expect(await onA).toEqual({ pub: 'muteForced', active: true, trackEnabled: false });

    // While force-mute is active, a new stream starts with its audio muted.
    const second = await a.evaluate(async () => {
      const w = window as any;
      const div = document.createElement('div');
      document.body.appendChild(div);
      const p2 = w.OT.initPublisher(div, { name: 'second', width: 160, height: 120 });
      const muted = w.e2e.nextEvent(p2, 'muteForced');
      await w.e2e.publish(w.session, p2);
      await muted;
      return { hasAudio: p2.stream.hasAudio, enabled: p2.getAudioSource().enabled, streamId: p2.stream.streamId };
    });
    expect(second.hasAudio).toBe(false);
    expect(second.enabled).toBe(false);
    const seenByMod = await mod.evaluate(
      (id) => (window as any).e2e.waitFor(() => (window as any).session.streams.find((s: any) => s.streamId === id)).then((s: any) => s.hasAudio),
      second.streamId,
    );
    expect(seenByMod).toBe(false);

    const off = [mod, a].map((p) => p.evaluate(() => (window as any).e2e.nextEvent((window as any).session, 'muteForced').then((e: any) => e.active)));
    await mod.evaluate(() => (window as any).session.disableForceMute());
    expect(await Promise.all(off)).toEqual([false, false]);
    const third = await a.evaluate(async () => {
      const w = window as any;
      const div = document.createElement('div');
      document.body.appendChild(div);
      const p3 = await w.e2e.publish(w.session, div, { name: 'third', width: 160, height: 120 });
      return p3.stream.hasAudio;
    });
    expect(third).toBe(true);
  });

  it("ending a screen share's capture (the browser's Stop sharing) unpublishes: streamDestroyed reason mediaStopped everywhere", async () => {
    const sid = name();
    const a = await joined(sid);
    const b = await joined(sid);
    const streamId = await a.evaluate(async () => {
      const w = window as any;
      w.publisher = await w.e2e.publish(w.session, 'publisher', { videoSource: 'screen', audioSource: null });
      return w.publisher.stream.streamId as string;
    });
    await subscribeTo(b, streamId);
    const onB = b.evaluate(() => (window as any).e2e.nextEvent((window as any).session, 'streamDestroyed').then((e: any) => e.reason));
    const onA = await a.evaluate(async () => {
      const w = window as any;
      const destroyed = w.e2e.nextEvent(w.publisher, 'streamDestroyed');
      // What Chrome does when the user clicks "Stop sharing": the track ends (stop() alone fires no event).
      const track = w.publisher.getVideoSource().track;
      track.stop();
      track.dispatchEvent(new Event('ended'));
      return (await destroyed).reason;
    });
    expect(onA).toBe('mediaStopped');
    expect(await onB).toBe('mediaStopped');
  });

  it('a late joiner decodes its first frame well under 1 s after subscribe() (keyframe on demand)', async () => {
    const sid = name();
    const a = await joined(sid);
    const streamId = await publishCamera(a);
    // Let the publisher run past its first key frames, so the joiner cannot ride on them.
    await new Promise((r) => setTimeout(r, 3000));
    const b = await page();
    const token = await e2e.token(sid);
    const t = await b.evaluate(
      async ({ apiKey, sid, token, streamId }) => {
        const w = window as any;
        const t0 = performance.now();
        w.session = w.OT.initSession(apiKey, sid);
        const created = w.e2e.nextEvent(w.session, 'streamCreated', 10000, (e: any) => e.stream.streamId === streamId);
        await w.e2e.connect(w.session, token);
        const connected = performance.now();
        const { stream } = await created;
        const t1 = performance.now();
        const firstFrame = new Promise<number>((resolve) => {
          const sub = w.session.subscribe(stream, 'subscribers', { insertMode: 'append' });
          w.sub = sub;
          sub.on('videoElementCreated', (e: any) => e.element.requestVideoFrameCallback(() => resolve(performance.now())));
        });
        const frame = await firstFrame;
        return { connectMs: connected - t0, subscribeToFrameMs: frame - t1, totalMs: frame - t0 };
      },
      { apiKey: API_KEY, sid, token, streamId },
    );
    process.stdout.write(`[late joiner] connect ${t.connectMs.toFixed(0)} ms, subscribe -> first frame ${t.subscribeToFrameMs.toFixed(0)} ms, total ${t.totalMs.toFixed(0)} ms\n`);
    expect(t.subscribeToFrameMs).toBeLessThan(1000);
    expect((await inbound(b)).keyFramesDecoded).toBeGreaterThanOrEqual(1);
  });

  it("screen share (videoSource 'screen') reaches a subscriber with videoType 'screen' and decodes", async () => {
    const sid = name();
    const a = await joined(sid);
    const b = await joined(sid);
    const streamId = await a.evaluate(async () => {
      const w = window as any;
      w.publisher = await w.e2e.publish(w.session, 'publisher', { videoSource: 'screen', audioSource: null, name: 'screen' });
      return w.publisher.stream.streamId as string;
    });
    await subscribeTo(b, streamId);
    const r = await b.evaluate(async () => {
      const w = window as any;
      const s = await w.e2e.inbound(w.sub);
      const f0 = s.video?.framesDecoded ?? 0;
      await w.e2e.waitFor(async () => ((await w.e2e.inbound(w.sub)).video?.framesDecoded ?? 0) > f0 + 3, 10000, 'screen frames');
      return { videoType: w.sub.stream.videoType, hasAudio: w.sub.stream.hasAudio, fit: getComputedStyle(w.sub.element.querySelector('video')).objectFit };
    });
    expect(r).toEqual({ videoType: 'screen', hasAudio: false, fit: 'contain' });
  });

  it('a subscriber on a lossy path (5 % of video dropped by the SFU) recovers through NACK/RTX: frames keep decoding with little freeze', async () => {
    const sid = name();
    const a = await joined(sid);
    const b = await joined(sid);
    const bConn = await b.evaluate(() => (window as any).session.connection.connectionId as string);
    lossy.add(bConn);
    try {
      const streamId = await publishCamera(a, { width: 640, height: 480, resolution: '640x480' });
      await subscribeTo(b, streamId);
      const encoded = (): Promise<number> => a.evaluate(async () => ((await (window as any).e2e.outbound((window as any).publisher)).video?.framesEncoded ?? 0) as number);
      const [s0, e0] = await Promise.all([inbound(b), encoded()]);
      await new Promise((r) => setTimeout(r, 6000));
      const [s1, e1] = await Promise.all([inbound(b), encoded()]);
      const decoded = s1.framesDecoded - s0.framesDecoded;
      process.stdout.write(
        `[lossy] over 6 s: encoded ${e1 - e0}, decoded ${decoded}, nack ${s1.nackCount}, lost ${s1.packetsLost}, freezes ${s1.freezeCount} (${s1.totalFreezesDuration.toFixed(2)} s)\n`,
      );
      expect(s1.nackCount).toBeGreaterThan(0);
      // Retransmissions fill the gaps: nearly every frame the publisher encoded is decoded.
      expect(decoded).toBeGreaterThan((e1 - e0) * 0.9);
      // Little freeze: under a second in six (a freeze is a gap of 150 ms or 3 frame times; CI cores are shared).
      expect(s1.totalFreezesDuration - s0.totalFreezesDuration).toBeLessThan(1);
    } finally {
      lossy.delete(bConn);
    }
  });

  it('enableStereo + audioBitrate negotiate Opus stereo=1 and maxaveragebitrate with the SFU; audio still reaches subscribers', async () => {
    const sid = name();
    const a = await joined(sid);
    const b = await joined(sid);
    const streamId = await publishCamera(a, { enableStereo: true, audioBitrate: 64000 });
    await subscribeTo(b, streamId);
    await expectFlowing(b, 5, 48_000);
    const fmtp = await a.evaluate(async () => {
      const w = window as any;
      let line = '';
      for (const { rtcStatsReport } of await w.publisher.getRtcStatsReport()) {
        const r = rtcStatsReport as RTCStatsReport;
        r.forEach((s: any) => {
          if (s.type === 'outbound-rtp' && s.kind === 'audio') line = r.get(s.codecId)?.sdpFmtpLine ?? '';
        });
      }
      return line;
    });
    expect(fmtp).toContain('stereo=1');
    expect(fmtp).toContain('maxaveragebitrate=64000');
  });

  it('subscribing to your own stream shows the local capture, or goes through the SFU with testNetwork: true', async () => {
    const sid = name();
    const a = await joined(sid);
    await publishCamera(a);
    const r = await a.evaluate(async () => {
      const w = window as any;
      const stream = w.publisher.stream;
      const local = await w.e2e.subscribe(w.session, stream, 'subscribers', { insertMode: 'append' });
      const localVideo = local.element.querySelector('video');
      const sameTrack = localVideo.srcObject.getVideoTracks()[0] === w.publisher.getVideoSource().track;
      w.sub = await w.e2e.subscribe(w.session, stream, 'subscribers', { insertMode: 'append', testNetwork: true });
      const f0 = (await w.e2e.inbound(w.sub)).video?.framesDecoded ?? 0;
      await w.e2e.waitFor(async () => ((await w.e2e.inbound(w.sub)).video?.framesDecoded ?? 0) > f0 + 10, 10000, 'looped-back frames');
      return { sameTrack, subscribers: w.session.getSubscribersForStream(stream).length };
    });
    expect(r).toEqual({ sameTrack: true, subscribers: 2 });
  });

  it('a Node bot (Session + NodePeerConnection) publishes and a Chromium page subscribes with framesDecoded rising', async () => {
    const sid = name();
    const bot: Session = initSession(API_KEY, sid, { serverUrl: e2e.url });
    try {
      await bot.connect(await e2e.token(sid));
      const publisher = OT.initPublisher(null, { name: 'bot', resolution: '640x480', peer: { bindAddress: '127.0.0.1' } }) as NodePublisher;
      const published = new Promise<void>((resolve, reject) => bot.publish(publisher, (err) => (err ? reject(err) : resolve())));
      await published;
      const b = await joined(sid);
      await subscribeTo(b, publisher.stream!.streamId);
      await expectFlowing(b, 30, 48_000);
      const st = await b.evaluate(() => (window as any).sub.stream.name);
      expect(st).toBe('bot');
    } finally {
      await bot.disconnect();
    }
  });
});
