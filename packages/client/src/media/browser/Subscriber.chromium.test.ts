import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GRANT_ARGS, hasChromium, launchMediaBrowser, type MediaBrowser } from './test-helpers/chromium.js';

/*
 * The Subscriber in real headless Chromium, fed by a local loopback: the Publisher's
 * tracks go through one RTCPeerConnection to another (as they would through the SFU)
 * and the receiving side hands its peer connection to the Subscriber.
 */

type Media = typeof import('./index.js');
type Falsy<T> = T | null | undefined | false | 0 | '';
/** An event as the multi-name on() hands it over. */
type Ev = { type: string; reason?: string; preventDefault(): void };
type W = {
  ConveneMedia: Media;
  waitFor<T>(check: () => Falsy<T> | Promise<Falsy<T>>, ms?: number, what?: string): Promise<T>;
  loopback(p: unknown, s: unknown): Promise<{ a: RTCPeerConnection; b: RTCPeerConnection }>;
  /** Set by `setup()` in the page. */
  pub: InstanceType<Media['Publisher']>;
  sub: InstanceType<Media['Subscriber']>;
  stream: { streamId: string; name: string; hasAudio: boolean; hasVideo: boolean; videoType: 'camera' | 'screen'; videoDimensions: null; frameRate: number };
  pcs: { a: RTCPeerConnection; b: RTCPeerConnection };
};

let mb: MediaBrowser;
let page: Page;

beforeAll(async () => {
  if (!hasChromium) return;
  mb = await launchMediaBrowser(GRANT_ARGS);
  page = await mb.newPage();
}, 30_000);
afterAll(async () => {
  await mb?.close();
});

/** In the page: a camera publisher, a Subscriber with `props` on `target`, and the loopback between them. */
async function setup(props: Record<string, unknown> = {}, videoType: 'camera' | 'screen' = 'camera'): Promise<void> {
  await page.evaluate(
    async ({ props, videoType }) => {
      const w = window as unknown as W;
      const M = w.ConveneMedia;
      w.pub = M.initPublisher(undefined, { insertDefaultUI: false, resolution: '320x240' });
      await w.pub._whenReady();
      w.stream = { streamId: 'st1', name: 'Alice', hasAudio: true, hasVideo: true, videoType, videoDimensions: null, frameRate: 30 };
      w.sub = new M.Subscriber(w.stream, 'target', props);
      w.pcs = await w.loopback(w.pub, w.sub);
    },
    { props, videoType },
  );
}

describe.skipIf(!hasChromium)('Subscriber in Chromium', () => {
  afterEach(async () => {
    await page.goto(mb.url);
    await page.addScriptTag({ url: `${mb.url}/media.js` });
  });

  it('renders the remote stream into a <video> in the target and framesDecoded rises', async () => {
    await setup();
    const r = await page.evaluate(async () => {
      const { sub, waitFor } = window as unknown as W;
      await sub._whenLoaded();
      const s1 = await waitFor(async () => {
        const s = await sub.getStats();
        return s.video.framesDecoded > 0 ? s : null;
      }, 8000, 'first decoded frames');
      await new Promise((r) => setTimeout(r, 600));
      const s2 = await sub.getStats();
      const root = document.getElementById('target')!.firstElementChild as HTMLElement;
      const video = root.querySelector('video')!;
      return {
        rootIsElement: root === sub.element,
        classes: [...root.classList],
        inDocument: document.contains(video),
        size: [sub.videoWidth(), sub.videoHeight()],
        frames: [s1.video.framesDecoded, s2.video.framesDecoded],
        audioPackets: s2.audio.packetsReceived,
        paused: video.paused,
        muted: video.muted,
        name: root.querySelector('.OT_name')!.textContent,
      };
    });
    expect(r.rootIsElement).toBe(true);
    expect(r.classes).toEqual(expect.arrayContaining(['OT_root', 'OT_subscriber', 'OT_fit-mode-cover']));
    expect(r.classes).not.toContain('OT_mirrored');
    expect(r.inDocument).toBe(true);
    expect(r.size).toEqual([320, 240]);
    expect(r.frames[1]).toBeGreaterThan(r.frames[0]!);
    expect(r.audioPackets).toBeGreaterThan(0);
    expect(r).toMatchObject({ paused: false, muted: false, name: 'Alice' });
  }, 20_000);

  it('audioVolume defaults to 50 and setAudioVolume() maps 0-100 to the element volume', async () => {
    await setup();
    const r = await page.evaluate(() => {
      const { sub } = window as unknown as W;
      const video = sub.element!.querySelector('video')!;
      const initial = [sub.getAudioVolume(), video.volume];
      sub.setAudioVolume(30);
      const set = [sub.getAudioVolume(), video.volume];
      sub.setAudioVolume(250);
      const clamped = [sub.getAudioVolume(), video.volume];
      sub.setAudioVolume(0);
      return { initial, set, clamped, mutedIcon: sub.element!.classList.contains('OT_audio-muted') };
    });
    expect(r).toEqual({ initial: [50, 0.5], set: [30, 0.3], clamped: [100, 1], mutedIcon: true });
  }, 20_000);

  it('the audioVolume property sets the initial element volume', async () => {
    await setup({ audioVolume: 80 });
    const v = await page.evaluate(() => (window as unknown as W).sub.element!.querySelector('video')!.volume);
    expect(v).toBe(0.8);
  }, 20_000);

  it('subscribeToVideo(false) disables the video track, shows the avatar and fires videoDisabled (subscribeToVideo)', async () => {
    await setup();
    const r = await page.evaluate(async () => {
      const { sub } = window as unknown as W;
      await sub._whenLoaded();
      const events: string[] = [];
      const updates: unknown[] = [];
      sub.on('videoDisabled videoEnabled', (e: Ev) => events.push(`${e.type}:${e.reason}`));
      sub._internal.on('subscriptionChanged', (u) => updates.push(u));
      sub.subscribeToVideo(false);
      const video = sub.element!.querySelector('video')!;
      const track = (video.srcObject as MediaStream).getVideoTracks()[0]!;
      const off = { enabled: track.enabled, avatar: sub.element!.classList.contains('OT_video-disabled'), poster: getComputedStyle(sub.element!.querySelector('.OT_video-poster')!).display };
      sub.subscribeToVideo(true);
      return { off, on: { enabled: track.enabled, avatar: sub.element!.classList.contains('OT_video-disabled') }, events, updates };
    });
    expect(r.off).toEqual({ enabled: false, avatar: true, poster: 'block' });
    expect(r.on).toEqual({ enabled: true, avatar: false });
    expect(r.events).toEqual(['videoDisabled:subscribeToVideo', 'videoEnabled:subscribeToVideo']);
    expect(r.updates).toEqual([{ subscribeToVideo: false }, { subscribeToVideo: true }]);
  }, 20_000);

  it('subscribeToAudio(false) disables the audio track and asks the Session to stop forwarding audio', async () => {
    await setup();
    const r = await page.evaluate(async () => {
      const { sub, waitFor } = window as unknown as W;
      const updates: unknown[] = [];
      sub._internal.on('subscriptionChanged', (u) => updates.push(u));
      const video = sub.element!.querySelector('video')!;
      const track = await waitFor(() => (video.srcObject as MediaStream | null)?.getAudioTracks()[0], 5000, 'audio track');
      sub.subscribeToAudio(false);
      return { enabled: track.enabled, updates };
    });
    expect(r).toEqual({ enabled: false, updates: [{ subscribeToAudio: false }] });
  }, 20_000);

  it('subscribeToVideo:false as a property starts with the avatar and no videoDisabled event', async () => {
    await setup({ subscribeToVideo: false });
    const r = await page.evaluate(async () => {
      const { sub, waitFor } = window as unknown as W;
      let events = 0;
      sub.on('videoDisabled videoEnabled', () => events++);
      const video = sub.element!.querySelector('video')!;
      const track = await waitFor(() => (video.srcObject as MediaStream | null)?.getVideoTracks()[0], 5000, 'video track');
      return { enabled: track.enabled, avatar: sub.element!.classList.contains('OT_video-disabled'), events };
    });
    expect(r).toEqual({ enabled: false, avatar: true, events: 0 });
  }, 20_000);

  it("the publisher's publishVideo(false) reaches the subscriber as videoDisabled with reason publishVideo", async () => {
    await setup();
    const r = await page.evaluate(() => {
      const w = window as unknown as W;
      const events: string[] = [];
      w.sub.on('videoDisabled videoEnabled', (e: Ev) => events.push(`${e.type}:${e.reason}`));
      // What the Session does on streamPropertyChanged: update the Stream, then tell its subscribers.
      w.pub._internal.on('propertyChanged', (prop, _old, value) => {
        (w.stream as Record<string, unknown>)[prop] = value;
        w.sub._streamPropertyChanged(prop);
      });
      w.pub.publishVideo(false);
      const avatar = w.sub.element!.classList.contains('OT_video-disabled');
      w.pub.publishVideo(true);
      return { events, avatar };
    });
    expect(r).toEqual({ events: ['videoDisabled:publishVideo', 'videoEnabled:publishVideo'], avatar: true });
  }, 20_000);

  it('video disabled for quality fires videoDisabled (quality) and shows the indicator', async () => {
    await setup();
    const r = await page.evaluate(() => {
      const { sub } = window as unknown as W;
      const events: string[] = [];
      sub.on('videoDisabled videoEnabled', (e: Ev) => events.push(`${e.type}:${e.reason}`));
      sub._setVideoDisabledForQuality(true);
      const indicator = getComputedStyle(sub.element!.querySelector('.OT_video-disabled-indicator')!).display;
      sub._setVideoDisabledForQuality(false);
      return { events, indicator };
    });
    expect(r).toEqual({ events: ['videoDisabled:quality', 'videoEnabled:quality'], indicator: 'block' });
  }, 20_000);

  it('audioLevelUpdated reports the received audio level', async () => {
    await setup();
    const max = await page.evaluate(async () => {
      const { sub, waitFor } = window as unknown as W;
      let max = 0;
      sub.on('audioLevelUpdated', (e) => (max = Math.max(max, e.audioLevel)));
      return waitFor(() => (max > 0.05 ? max : 0), 8000, 'a received level above 0.05');
    });
    expect(max).toBeGreaterThan(0.05);
  }, 20_000);

  it('fitMode defaults to contain for screen streams and honours an explicit value', async () => {
    await setup({}, 'screen');
    const r = await page.evaluate(() => {
      const w = window as unknown as W;
      const other = new w.ConveneMedia.Subscriber(w.stream, 'target', { insertMode: 'after', fitMode: 'cover' });
      return {
        screen: [...w.sub.element!.classList].filter((c) => c.startsWith('OT_fit')),
        fit: getComputedStyle(w.sub.element!.querySelector('video')!).objectFit,
        explicit: [...other.element!.classList].filter((c) => c.startsWith('OT_fit')),
      };
    });
    expect(r).toEqual({ screen: ['OT_fit-mode-contain'], fit: 'contain', explicit: ['OT_fit-mode-cover'] });
  }, 20_000);

  it('width/height in % and insertMode append are honoured', async () => {
    const r = await page.evaluate(() => {
      const { ConveneMedia: M } = window as unknown as W;
      const target = document.getElementById('target')!;
      target.style.cssText = 'width:300px;height:100px';
      const sub = new M.Subscriber({ streamId: 's', name: '', hasAudio: true, hasVideo: true, videoType: 'camera', videoDimensions: null, frameRate: 30 }, target, { width: '100%', height: '50%', insertMode: 'append' });
      const box = sub.element!.getBoundingClientRect();
      return { last: target.lastElementChild === sub.element, placeholder: target.firstChild?.textContent, w: box.width, h: box.height };
    });
    expect(r).toEqual({ last: true, placeholder: 'placeholder', w: 300, h: 50 });
  }, 20_000);

  it('insertDefaultUI:false hands over the <video> in videoElementCreated, inserts nothing, and forbids a target', async () => {
    const r = await page.evaluate(async () => {
      const w = window as unknown as W;
      const M = w.ConveneMedia;
      w.stream = { streamId: 's', name: '', hasAudio: true, hasVideo: true, videoType: 'camera', videoDimensions: null, frameRate: 30 };
      let error = '';
      try {
        new M.Subscriber(w.stream, 'target', { insertDefaultUI: false });
      } catch (e) {
        error = (e as Error).name;
      }
      const before = document.body.innerHTML;
      const sub = new M.Subscriber(w.stream, undefined, { insertDefaultUI: false });
      const el = await new Promise<HTMLVideoElement>((resolve) => sub.on('videoElementCreated', (e) => resolve(e.element)));
      return { error, unchanged: document.body.innerHTML === before, element: sub.element, tag: el.tagName, inDocument: document.contains(el) };
    });
    expect(r).toEqual({ error: 'OT_INVALID_PARAMETER', unchanged: true, element: undefined, tag: 'VIDEO', inDocument: false });
  }, 20_000);

  it('destroy() removes the element, stops the tracks, asks the Session to unsubscribe and dispatches destroyed once', async () => {
    await setup();
    const r = await page.evaluate(async () => {
      const { sub } = window as unknown as W;
      await sub._whenLoaded();
      const tracks = (sub.element!.querySelector('video')!.srcObject as MediaStream).getTracks();
      let destroyed = 0;
      let destroying = 0;
      sub.on('destroyed', () => destroyed++);
      sub._internal.on('destroying', () => destroying++);
      sub.destroy();
      sub.destroy();
      return { destroyed, destroying, videos: document.querySelectorAll('#target video').length, element: sub.element, states: tracks.map((t) => t.readyState) };
    });
    expect(r).toEqual({ destroyed: 1, destroying: 1, videos: 0, element: undefined, states: ['ended', 'ended'] });
  }, 20_000);

  it('_destroy(reason) (the Session\'s streamDestroyed default) removes the view without asking to unsubscribe', async () => {
    await setup();
    const r = await page.evaluate(() => {
      const { sub } = window as unknown as W;
      const reasons: unknown[] = [];
      let destroying = 0;
      sub.on('destroyed', (e) => reasons.push(e.reason));
      sub._internal.on('destroying', () => destroying++);
      sub._destroy('clientDisconnected');
      return { reasons, destroying, element: sub.element, inTarget: document.querySelectorAll('#target .OT_subscriber').length };
    });
    expect(r).toEqual({ reasons: ['clientDisconnected'], destroying: 0, element: undefined, inTarget: 0 });
  }, 20_000);

  it('dispatches disconnected when the media connection is lost', async () => {
    await setup();
    const r = await page.evaluate(async () => {
      const { sub, pcs } = window as unknown as W;
      await sub._whenLoaded();
      const lost = new Promise<string>((resolve) => sub.on('disconnected', () => resolve(pcs.b.connectionState)));
      pcs.a.close();
      return lost;
    });
    expect(['disconnected', 'failed']).toContain(r);
  }, 20_000);

  it('videoDimensionsChanged fires when the publisher sends a smaller resolution', async () => {
    await setup();
    const r = await page.evaluate(async () => {
      const { sub, pcs, waitFor } = window as unknown as W;
      await sub._whenLoaded();
      await waitFor(() => sub.videoWidth() === 320, 5000, 'full size');
      const changed = new Promise<{ old: number; now: number }>((resolve) => sub.once('videoDimensionsChanged', (e) => resolve({ old: e.oldValue.width, now: e.newValue.width })));
      const sender = pcs.a.getSenders().find((s) => s.track?.kind === 'video')!;
      const params = sender.getParameters();
      params.encodings[0]!.scaleResolutionDownBy = 2;
      await sender.setParameters(params);
      return changed;
    });
    expect(r).toEqual({ old: 320, now: 160 });
  }, 20_000);

  it('setPreferredResolution/setPreferredFrameRate/restrictFrameRate are relayed to the Session; bad values throw', async () => {
    await setup();
    const r = await page.evaluate(() => {
      const { sub } = window as unknown as W;
      const updates: unknown[] = [];
      sub._internal.on('subscriptionChanged', (u) => updates.push(u));
      sub.setPreferredResolution({ width: 320, height: 180 });
      sub.setPreferredFrameRate(15);
      sub.restrictFrameRate(true);
      sub.restrictFrameRate(false);
      let error = '';
      try {
        sub.setPreferredFrameRate(-1);
      } catch (e) {
        error = (e as Error).name;
      }
      return { updates, error };
    });
    expect(r.updates).toEqual([{ preferredResolution: { width: 320, height: 180 } }, { preferredFrameRate: 15 }, { preferredFrameRate: 1 }, { preferredFrameRate: 15 }]);
    expect(r.error).toBe('OT_INVALID_PARAMETER');
  }, 20_000);

  it('getImgData() returns a PNG of the received frame and isAudioBlocked() is false when autoplay is allowed', async () => {
    await setup();
    const r = await page.evaluate(async () => {
      const { sub, waitFor } = window as unknown as W;
      await sub._whenLoaded();
      await waitFor(() => sub.videoWidth() === 320, 5000, 'full size');
      const img = new Image();
      img.src = `data:image/png;base64,${sub.getImgData()!}`;
      await img.decode();
      return { w: img.naturalWidth, blocked: sub.isAudioBlocked() };
    });
    expect(r).toEqual({ w: 320, blocked: false });
  }, 20_000);
});
