import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DENY_ARGS, GRANT_ARGS, hasChromium, launchMediaBrowser, type MediaBrowser } from './test-helpers/chromium.js';

/*
 * The Publisher in real headless Chromium with the fake camera and microphone: the
 * media folder is bundled with esbuild and loaded into a page on 127.0.0.1.
 */

type Media = typeof import('./index.js');
type Falsy<T> = T | null | undefined | false | 0 | '';
/** An event as the multi-name on() hands it over. */
type Ev = { type: string; reason?: string; preventDefault(): void };
/** What the test page defines (see test-helpers/chromium.ts). */
type W = {
  ConveneMedia: Media;
  waitFor<T>(check: () => Falsy<T> | Promise<Falsy<T>>, ms?: number, what?: string): Promise<T>;
  loopback(p: unknown, s: unknown): Promise<{ a: RTCPeerConnection; b: RTCPeerConnection }>;
};

let mb: MediaBrowser;
let page: Page;

beforeAll(async () => {
  if (hasChromium) mb = await launchMediaBrowser([...GRANT_ARGS, '--auto-select-desktop-capture-source=Entire screen']);
}, 30_000);
afterAll(async () => {
  await mb?.close();
});

describe.skipIf(!hasChromium)('Publisher in Chromium', () => {
  beforeAll(async () => {
    page = await mb.newPage();
  });
  afterEach(async () => {
    // A fresh document for every test: no publishers or elements left over.
    await page.goto(mb.url);
    await page.addScriptTag({ url: `${mb.url}/media.js` });
  });

  it('initPublisher replaces the target contents with a mirrored, cover-fit <video> of the given size', async () => {
    const r = await page.evaluate(async () => {
      const { ConveneMedia: M } = window as unknown as W;
      const pub = M.initPublisher('target', { width: 400, height: '300px', name: 'Bob' });
      await pub._whenReady();
      const target = document.getElementById('target')!;
      const root = target.firstElementChild as HTMLElement;
      return {
        children: target.children.length,
        isElement: root === pub.element,
        id: root.id === pub.id,
        classes: [...root.classList].sort(),
        width: root.getBoundingClientRect().width,
        height: root.getBoundingClientRect().height,
        video: !!root.querySelector('video.OT_video-element'),
        videoInDocument: document.contains(root.querySelector('video')),
        transform: getComputedStyle(root.querySelector('video')!).transform,
        objectFit: getComputedStyle(root.querySelector('video')!).objectFit,
        name: root.querySelector('.OT_name')?.textContent,
        placeholder: target.textContent?.includes('placeholder'),
      };
    });
    expect(r).toMatchObject({ children: 1, isElement: true, id: true, width: 400, height: 300, video: true, videoInDocument: true, objectFit: 'cover', name: 'Bob', placeholder: false });
    expect(r.classes).toEqual(expect.arrayContaining(['OT_root', 'OT_publisher', 'OT_mirrored', 'OT_fit-mode-cover']));
    expect(r.transform).toBe('matrix(-1, 0, 0, 1, 0, 0)');
  }, 20_000);

  it.each([
    ['after', 'nextElementSibling'],
    ['before', 'previousElementSibling'],
    ['append', 'lastElementChild'],
  ] as const)('insertMode "%s" places the publisher relative to the target (%s)', async (insertMode, relation) => {
    const r = await page.evaluate(
      async ({ insertMode, relation }) => {
        const { ConveneMedia: M } = window as unknown as W;
        const target = document.getElementById('target')!;
        const pub = M.initPublisher(target, { insertMode });
        await pub._whenReady();
        return {
          related: target[relation] === pub.element,
          targetKept: document.contains(target) && target.textContent === 'placeholder',
          hasVideo: !!pub.element?.querySelector('video'),
        };
      },
      { insertMode, relation },
    );
    expect(r).toEqual({ related: true, targetKept: true, hasVideo: true });
  }, 20_000);

  it('without a target the publisher is appended to <body> at the default 264x198', async () => {
    const r = await page.evaluate(async () => {
      const { ConveneMedia: M } = window as unknown as W;
      const pub = M.initPublisher();
      await pub._whenReady();
      const box = pub.element!.getBoundingClientRect();
      return { last: document.body.lastElementChild === pub.element, w: box.width, h: box.height };
    });
    expect(r).toEqual({ last: true, w: 264, h: 198 });
  }, 20_000);

  it('percentage width and height are relative to the parent element', async () => {
    const r = await page.evaluate(async () => {
      const { ConveneMedia: M } = window as unknown as W;
      const target = document.getElementById('target')!;
      target.style.cssText = 'width:500px;height:200px';
      const pub = M.initPublisher(target, { width: '50%', height: '100%' });
      await pub._whenReady();
      const box = pub.element!.getBoundingClientRect();
      return { w: box.width, h: box.height };
    });
    expect(r).toEqual({ w: 250, h: 200 });
  }, 20_000);

  it('the fake camera plays: videoWidth/videoHeight follow resolution and currentTime advances', async () => {
    const r = await page.evaluate(async () => {
      const { ConveneMedia: M, waitFor } = window as unknown as W;
      const pub = M.initPublisher('target', { resolution: '320x240', frameRate: 15 });
      await pub._whenReady();
      const video = pub.element!.querySelector('video')!;
      const t0 = video.currentTime;
      await waitFor(() => video.currentTime > t0 + 0.3, 5000, 'currentTime to advance');
      return { w: pub.videoWidth(), h: pub.videoHeight(), paused: video.paused, settings: pub._streamSettings() };
    });
    expect(r.w).toBe(320);
    expect(r.h).toBe(240);
    expect(r.paused).toBe(false);
    expect(r.settings).toMatchObject({ hasAudio: true, hasVideo: true, videoType: 'camera', videoDimensions: { width: 320, height: 240 } });
    expect(r.settings.frameRate).toBeGreaterThan(0);
    expect(r.settings.frameRate).toBeLessThanOrEqual(15);
  }, 20_000);

  it('insertDefaultUI:false inserts nothing and hands the <video> over in videoElementCreated', async () => {
    const r = await page.evaluate(async () => {
      const { ConveneMedia: M } = window as unknown as W;
      const before = document.body.innerHTML;
      const pub = M.initPublisher(undefined, { insertDefaultUI: false });
      const el = await new Promise<HTMLVideoElement>((resolve) => pub.on('videoElementCreated', (e) => resolve(e.element)));
      await pub._whenReady();
      return {
        unchanged: document.body.innerHTML === before,
        element: pub.element === undefined,
        tag: el.tagName,
        inDocument: document.contains(el),
        hasStream: el.srcObject instanceof MediaStream,
        videos: document.querySelectorAll('video').length,
      };
    });
    expect(r).toEqual({ unchanged: true, element: true, tag: 'VIDEO', inDocument: false, hasStream: true, videos: 0 });
  }, 20_000);

  it('insertDefaultUI:false with a target element fails with OT_INVALID_PARAMETER', async () => {
    const name = await page.evaluate(
      () =>
        new Promise<string>((resolve) => {
          const { ConveneMedia: M } = window as unknown as W;
          M.initPublisher('target', { insertDefaultUI: false }, (err) => resolve(err?.name ?? 'no error'));
        }),
    );
    expect(name).toBe('OT_INVALID_PARAMETER');
  }, 20_000);

  it.each([
    ['an unknown target id', 'missing-id', {}],
    ['a malformed resolution', 'target', { resolution: 'big' }],
    ['a malformed width', 'target', { width: 'wide' }],
    ['an unknown insertMode', 'target', { insertMode: 'sideways' }],
  ] as const)('initPublisher with %s fails with OT_INVALID_PARAMETER and captures nothing', async (_what, target, props) => {
    const r = await page.evaluate(
      ({ target, props }) =>
        new Promise<{ name: string; allowed: boolean; children: number }>((resolve) => {
          const { ConveneMedia: M } = window as unknown as W;
          let allowed = false;
          const pub = M.initPublisher(target, props as never, (err) => resolve({ name: err?.name ?? 'no error', allowed, children: document.getElementById('target')!.children.length }));
          pub.on('accessAllowed', () => (allowed = true));
        }),
      { target, props },
    );
    expect(r).toEqual({ name: 'OT_INVALID_PARAMETER', allowed: false, children: 0 });
  }, 20_000);

  it('accessAllowed fires before the completion handler', async () => {
    const order = await page.evaluate(
      () =>
        new Promise<string[]>((resolve) => {
          const { ConveneMedia: M } = window as unknown as W;
          const seen: string[] = [];
          const pub = M.initPublisher('target', {}, (err) => {
            seen.push(err ? err.name : 'completed');
            resolve(seen);
          });
          pub.on('accessAllowed videoElementCreated', (e: Ev) => seen.push(e.type));
        }),
    );
    expect(order).toEqual(['accessAllowed', 'videoElementCreated', 'completed']);
  }, 20_000);

  it('publishVideo(false) disables the video track, shows the avatar and reports hasVideo true -> false', async () => {
    const r = await page.evaluate(async () => {
      const { ConveneMedia: M } = window as unknown as W;
      const pub = M.initPublisher('target');
      await pub._whenReady();
      const changes: unknown[][] = [];
      pub._internal.on('propertyChanged', (...a) => changes.push(a));
      pub.publishVideo(false);
      const off = { enabled: pub.getVideoSource().track!.enabled, poster: pub.element!.classList.contains('OT_video-disabled'), settings: pub._streamSettings().hasVideo };
      pub.publishVideo(false); // no change, no notification
      pub.publishVideo(true);
      const on = { enabled: pub.getVideoSource().track!.enabled, poster: pub.element!.classList.contains('OT_video-disabled') };
      return { off, on, changes };
    });
    expect(r.off).toEqual({ enabled: false, poster: true, settings: false });
    expect(r.on).toEqual({ enabled: true, poster: false });
    expect(r.changes).toEqual([
      ['hasVideo', true, false],
      ['hasVideo', false, true],
    ]);
  }, 20_000);

  it('publishAudio(false) disables the audio track and reports hasAudio true -> false', async () => {
    const r = await page.evaluate(async () => {
      const { ConveneMedia: M } = window as unknown as W;
      const pub = M.initPublisher('target');
      await pub._whenReady();
      const changes: unknown[][] = [];
      pub._internal.on('propertyChanged', (...a) => changes.push(a));
      pub.publishAudio(false);
      return { enabled: pub.getAudioSource()!.enabled, muted: pub.element!.classList.contains('OT_audio-muted'), changes, settings: pub._streamSettings().hasAudio };
    });
    expect(r).toEqual({ enabled: false, muted: true, changes: [['hasAudio', true, false]], settings: false });
  }, 20_000);

  it('publishAudio:false/publishVideo:false as properties start with the tracks disabled', async () => {
    const r = await page.evaluate(async () => {
      const { ConveneMedia: M } = window as unknown as W;
      const pub = M.initPublisher('target', { publishAudio: false, publishVideo: false });
      await pub._whenReady();
      return { audio: pub.getAudioSource()!.enabled, video: pub.getVideoSource().track!.enabled, settings: pub._streamSettings() };
    });
    expect(r).toMatchObject({ audio: false, video: false, settings: { hasAudio: false, hasVideo: false } });
  }, 20_000);

  it('audioLevelUpdated reports the fake microphone and falls to 0 after publishAudio(false)', async () => {
    const r = await page.evaluate(async () => {
      const { ConveneMedia: M, waitFor } = window as unknown as W;
      const pub = M.initPublisher('target');
      await pub._whenReady();
      let max = 0;
      let count = 0;
      let last = -1;
      pub.on('audioLevelUpdated', (e) => {
        count++;
        last = e.audioLevel;
        max = Math.max(max, e.audioLevel);
      });
      await waitFor(() => max > 0.1, 5000, 'a level above 0.1');
      const heard = { max, count };
      pub.publishAudio(false);
      await new Promise((r) => setTimeout(r, 300)); // flush the analyser's 1024-sample window
      const before = count;
      await waitFor(() => count >= before + 5, 3000, 'five more updates');
      return { heard, silentLast: last };
    });
    expect(r.heard.max).toBeGreaterThan(0.1);
    expect(r.silentLast).toBe(0);
  }, 20_000);

  it('audioLevelUpdated arrives about every 60 ms', async () => {
    const intervals = await page.evaluate(async () => {
      const { ConveneMedia: M, waitFor } = window as unknown as W;
      const pub = M.initPublisher('target');
      await pub._whenReady();
      const at: number[] = [];
      pub.on('audioLevelUpdated', () => at.push(performance.now()));
      await waitFor(() => at.length >= 11, 5000, 'eleven updates');
      return (at[10]! - at[0]!) / 10;
    });
    expect(intervals).toBeGreaterThan(40);
    expect(intervals).toBeLessThan(250); // loose: a loaded machine delays timers; this checks cadence, not speed
  }, 20_000);

  it('an audio-only publisher shows the avatar and, in auto mode, the audio level meter', async () => {
    const r = await page.evaluate(async () => {
      const { ConveneMedia: M } = window as unknown as W;
      const pub = M.initPublisher('target', { videoSource: null });
      await pub._whenReady();
      const el = pub.element!;
      return {
        settings: pub._streamSettings(),
        avatar: getComputedStyle(el.querySelector('.OT_video-poster')!).display,
        meter: getComputedStyle(el.querySelector('.OT_audio-level-meter')!).display,
      };
    });
    expect(r).toEqual({ settings: { name: '', hasAudio: true, hasVideo: false, videoType: null, videoDimensions: null, frameRate: null }, avatar: 'block', meter: 'block' });
  }, 20_000);

  it('fitMode "contain" and mirror:false set the classes and the CSS', async () => {
    const r = await page.evaluate(async () => {
      const { ConveneMedia: M } = window as unknown as W;
      const pub = M.initPublisher('target', { fitMode: 'contain', mirror: false });
      await pub._whenReady();
      const v = pub.element!.querySelector('video')!;
      return { classes: [...pub.element!.classList], fit: getComputedStyle(v).objectFit, transform: getComputedStyle(v).transform };
    });
    expect(r.classes).toContain('OT_fit-mode-contain');
    expect(r.classes).not.toContain('OT_mirrored');
    expect(r.fit).toBe('contain');
    expect(r.transform).toBe('none');
  }, 20_000);

  it('showControls:false hides the name, button and meter; style modes set per-control classes', async () => {
    const r = await page.evaluate(async () => {
      const { ConveneMedia: M } = window as unknown as W;
      const a = M.initPublisher('target', { name: 'x', showControls: false });
      const b = M.initPublisher('target', { name: 'y', insertMode: 'after', style: { nameDisplayMode: 'on', buttonDisplayMode: 'off' } });
      await Promise.all([a._whenReady(), b._whenReady()]);
      const shown = (el: Element | null): boolean => !!el && getComputedStyle(el).display !== 'none' && getComputedStyle(el).opacity !== '0';
      return {
        a: [shown(a.element!.querySelector('.OT_name')), shown(a.element!.querySelector('.OT_mute'))],
        b: [shown(b.element!.querySelector('.OT_name')), shown(b.element!.querySelector('.OT_mute'))],
        styles: document.querySelectorAll('style#OT_styles').length,
      };
    });
    expect(r).toEqual({ a: [false, false], b: [true, false], styles: 1 });
  }, 20_000);

  it('destroy() stops the tracks, removes the element and dispatches destroyed', async () => {
    const r = await page.evaluate(async () => {
      const { ConveneMedia: M } = window as unknown as W;
      const pub = M.initPublisher('target');
      await pub._whenReady();
      const tracks = [pub.getAudioSource()!, pub.getVideoSource().track!];
      let destroyed = 0;
      pub.on('destroyed', () => destroyed++);
      pub.destroy();
      pub.destroy();
      return { destroyed, states: tracks.map((t) => t.readyState), videos: document.querySelectorAll('video').length, element: pub.element };
    });
    expect(r).toEqual({ destroyed: 1, states: ['ended', 'ended'], videos: 0, element: undefined });
  }, 20_000);

  it('streamDestroyed removes the publisher by default', async () => {
    const r = await page.evaluate(async () => {
      const { ConveneMedia: M } = window as unknown as W;
      const pub = M.initPublisher('target');
      await pub._whenReady();
      const stream = { streamId: 's1', name: '', hasAudio: true, hasVideo: true, videoType: 'camera' as const, videoDimensions: null, frameRate: 30 };
      const events: string[] = [];
      pub.on('streamCreated streamDestroyed destroyed', (e: Ev) => events.push(`${e.type}:${(e as { reason?: string }).reason ?? ''}`));
      pub._streamCreated({}, stream);
      const published = pub.stream === stream;
      const prevented = pub._streamDestroyed('forceUnpublished');
      return { published, prevented, events, videos: document.querySelectorAll('video').length, stream: pub.stream };
    });
    expect(r).toEqual({ published: true, prevented: false, events: ['streamCreated:', 'streamDestroyed:forceUnpublished', 'destroyed:forceUnpublished'], videos: 0, stream: undefined });
  }, 20_000);

  it('streamDestroyed with preventDefault() keeps the publisher on the page, still capturing', async () => {
    const r = await page.evaluate(async () => {
      const { ConveneMedia: M } = window as unknown as W;
      const pub = M.initPublisher('target');
      await pub._whenReady();
      pub.on('streamDestroyed', (e) => e.preventDefault());
      pub._streamCreated({}, { streamId: 's1', name: '', hasAudio: true, hasVideo: true, videoType: 'camera', videoDimensions: null, frameRate: 30 });
      const prevented = pub._streamDestroyed('unpublished');
      return { prevented, inDocument: document.contains(pub.element!), live: pub.getVideoSource().track!.readyState };
    });
    expect(r).toEqual({ prevented: true, inDocument: true, live: 'live' });
  }, 20_000);

  it('destroy() while published asks the Session to unpublish first, then removes the element despite preventDefault', async () => {
    const r = await page.evaluate(async () => {
      const { ConveneMedia: M } = window as unknown as W;
      const pub = M.initPublisher('target');
      await pub._whenReady();
      const events: string[] = [];
      pub.on('streamDestroyed', (e) => {
        e.preventDefault();
        events.push(`streamDestroyed:${e.reason}`);
      });
      pub.on('destroyed', () => events.push('destroyed'));
      // What the Session does on 'destroying': send unpublish, then end the stream locally.
      pub._internal.on('destroying', () => {
        events.push('destroying');
        pub._streamDestroyed('unpublished');
      });
      pub._streamCreated({}, { streamId: 's1', name: '', hasAudio: true, hasVideo: true, videoType: 'camera', videoDimensions: null, frameRate: 30 });
      pub.destroy();
      return { events, videos: document.querySelectorAll('video').length };
    });
    expect(r).toEqual({ events: ['destroying', 'streamDestroyed:unpublished', 'destroyed'], videos: 0 });
  }, 20_000);

  it("videoSource 'screen' shares the (fake) screen: videoType screen, contain fit, not mirrored", async () => {
    const r = await page.evaluate(async () => {
      const { ConveneMedia: M } = window as unknown as W;
      const pub = M.initPublisher('target', { videoSource: 'screen', audioSource: null });
      await pub._whenReady();
      return { settings: pub._streamSettings(), classes: [...pub.element!.classList], type: pub.getVideoSource().type, w: pub.videoWidth() };
    });
    expect(r.settings).toMatchObject({ hasAudio: false, hasVideo: true, videoType: 'screen' });
    expect(r.type).toBe('screen');
    expect(r.w).toBeGreaterThan(0);
    expect(r.classes).toContain('OT_fit-mode-contain');
    expect(r.classes).not.toContain('OT_mirrored');
  }, 20_000);

  it('_attach(pc, { simulcast: true }) offers three camera layers (q/h/f), two (h/f) from 480 px, none for a screen or a camera under 480 px', async () => {
    const r = await page.evaluate(async () => {
      const { ConveneMedia: M } = window as unknown as W;
      const cam = M.initPublisher(undefined, { resolution: '1280x720' });
      const screen = M.initPublisher(undefined, { videoSource: 'screen', audioSource: null });
      const small = M.initPublisher(undefined, { resolution: '320x240' });
      const vga = M.initPublisher(undefined, { resolution: '640x480' });
      await Promise.all([cam._whenReady(), screen._whenReady(), small._whenReady(), vga._whenReady()]);
      const pc1 = new RTCPeerConnection();
      const pc2 = new RTCPeerConnection();
      const pc3 = new RTCPeerConnection();
      const pc4 = new RTCPeerConnection();
      const t1 = cam._attach(pc1, { simulcast: true });
      const t2 = screen._attach(pc2, { simulcast: true });
      const t3 = small._attach(pc3, { simulcast: true });
      const t4 = vga._attach(pc4, { simulcast: true });
      const offer = await pc1.createOffer();
      const r = {
        rids: t1.video!.sender.getParameters().encodings.map((e) => e.rid),
        scale: t1.video!.sender.getParameters().encodings.map((e) => e.scaleResolutionDownBy),
        sdp: /a=simulcast:send q;h;f/.test(offer.sdp!),
        screen: t2.video!.sender.getParameters().encodings.length,
        small: t3.video!.sender.getParameters().encodings.length,
        vga: t4.video!.sender.getParameters().encodings.map((e) => [e.rid, e.scaleResolutionDownBy]),
        hint: screen.getVideoSource().track!.contentHint,
      };
      for (const pc of [pc1, pc2, pc3, pc4]) pc.close();
      for (const p of [cam, screen, small, vga]) p.destroy();
      return r;
    });
    expect(r).toEqual({ rids: ['q', 'h', 'f'], scale: [4, 2, 1], sdp: true, screen: 1, small: 1, vga: [['h', 2], ['f', 1]], hint: 'detail' });
  }, 20_000);

  it("audioSource 'screen' takes audio from the share, never from the microphone", async () => {
    const r = await page.evaluate(async () => {
      const { ConveneMedia: M } = window as unknown as W;
      const pub = M.initPublisher('target', { videoSource: 'screen', audioSource: 'screen' });
      await pub._whenReady();
      const a = pub.getAudioSource();
      return { label: a?.label ?? null, type: pub._streamSettings().videoType };
    });
    expect(r.type).toBe('screen');
    // Chromium's fake capture gives the share an audio track ('Fake audio'), distinct from the fake microphones.
    expect(r.label).not.toBeNull();
    expect(r.label).not.toMatch(/Fake (Default )?Audio Input/);
  }, 20_000);

  it('a MediaStreamTrack as videoSource publishes it as videoType custom', async () => {
    const r = await page.evaluate(async () => {
      const { ConveneMedia: M } = window as unknown as W;
      const canvas = document.createElement('canvas');
      canvas.width = 160;
      canvas.height = 120;
      const ctx = canvas.getContext('2d')!;
      const timer = setInterval(() => ctx.fillRect(Math.random() * 100, 0, 10, 10), 50);
      const track = canvas.captureStream(10).getVideoTracks()[0]!;
      const pub = M.initPublisher('target', { videoSource: track, audioSource: null });
      await pub._whenReady();
      clearInterval(timer);
      return { same: pub.getVideoSource().track === track, settings: pub._streamSettings() };
    });
    expect(r).toMatchObject({ same: true, settings: { videoType: 'custom', hasAudio: false, hasVideo: true } });
  }, 20_000);

  it('a track that ends (source gone) dispatches mediaStopped and, unpublished, destroys the publisher', async () => {
    const r = await page.evaluate(async () => {
      const { ConveneMedia: M, waitFor } = window as unknown as W;
      // A generated track: closing its writable ends it the way a stopped share or an unplugged camera does.
      const gen = new (globalThis as unknown as { MediaStreamTrackGenerator: new (o: { kind: string }) => MediaStreamTrack & { writable: WritableStream } }).MediaStreamTrackGenerator({ kind: 'video' });
      const pub = M.initPublisher('target', { videoSource: gen, audioSource: null });
      const events: string[] = [];
      pub.on('mediaStopped destroyed', (e: Ev) => events.push(`${e.type}:${(e as { reason?: string }).reason ?? ''}`));
      await new Promise((r) => setTimeout(r, 100));
      await gen.writable.getWriter().close();
      await waitFor(() => events.length >= 2, 3000, 'mediaStopped and destroyed');
      return { events, element: pub.element };
    });
    expect(r).toEqual({ events: ['mediaStopped:', 'destroyed:mediaStopped'], element: undefined });
  }, 20_000);

  it('a published track that ends asks the Session to unpublish (internal mediaStopped) unless prevented', async () => {
    const r = await page.evaluate(async () => {
      const { ConveneMedia: M, waitFor } = window as unknown as W;
      type Gen = MediaStreamTrack & { writable: WritableStream };
      const G = (globalThis as unknown as { MediaStreamTrackGenerator: new (o: { kind: string }) => Gen }).MediaStreamTrackGenerator;
      const run = async (prevent: boolean): Promise<{ internal: number; alive: boolean }> => {
        const gen = new G({ kind: 'video' });
        const pub = M.initPublisher(undefined, { videoSource: gen, audioSource: null });
        await new Promise((r) => setTimeout(r, 100));
        pub._streamCreated({}, { streamId: 's', name: '', hasAudio: false, hasVideo: true, videoType: 'custom', videoDimensions: null, frameRate: null });
        let internal = 0;
        let stopped = 0;
        pub._internal.on('mediaStopped', () => internal++);
        pub.on('mediaStopped', (e) => {
          stopped++;
          if (prevent) e.preventDefault();
        });
        await gen.writable.getWriter().close();
        await waitFor(() => stopped > 0, 3000, 'mediaStopped');
        return { internal, alive: pub.element !== undefined };
      };
      return { normal: await run(false), prevented: await run(true) };
    });
    expect(r).toEqual({ normal: { internal: 1, alive: true }, prevented: { internal: 0, alive: true } });
  }, 20_000);

  it('getImgData() returns a PNG of the current frame', async () => {
    const r = await page.evaluate(async () => {
      const { ConveneMedia: M } = window as unknown as W;
      const pub = M.initPublisher('target', { resolution: '320x240' });
      await pub._whenReady();
      const data = pub.getImgData()!;
      const img = new Image();
      img.src = `data:image/png;base64,${data}`;
      await img.decode();
      return { w: img.naturalWidth, h: img.naturalHeight };
    });
    expect(r).toEqual({ w: 320, h: 240 });
  }, 20_000);

  it('getStats() rejects with OT_NOT_CONNECTED before publishing and counts sent media once attached', async () => {
    const r = await page.evaluate(async () => {
      const { ConveneMedia: M, waitFor, loopback } = window as unknown as W;
      const pub = M.initPublisher('target', { audioBitrate: 32000 });
      await pub._whenReady();
      const before = await pub.getStats().then(
        () => 'resolved',
        (e: Error) => e.name,
      );
      const sub = new M.Subscriber({ streamId: 's', name: '', hasAudio: true, hasVideo: true, videoType: 'camera', videoDimensions: null, frameRate: 30 }, undefined, { insertDefaultUI: false });
      const { a } = await loopback(pub, sub);
      const stats = await waitFor(async () => {
        const [s] = await pub.getStats();
        return s!.stats.video.packetsSent > 10 && s!.stats.audio.packetsSent > 10 ? s!.stats : null;
      }, 8000, 'packets sent');
      const viaCallback = await new Promise<number>((resolve) => void pub.getStats((err, arr) => resolve(err ? -1 : arr!.length)));
      const maxBitrate = a.getSenders().find((s) => s.track?.kind === 'audio')!.getParameters().encodings[0]?.maxBitrate;
      return { before, bytes: stats.video.bytesSent, viaCallback, maxBitrate };
    });
    expect(r.before).toBe('OT_NOT_CONNECTED');
    expect(r.bytes).toBeGreaterThan(0);
    expect(r.viaCallback).toBe(1);
    expect(r.maxBitrate).toBe(32000);
  }, 20_000);

  it('setVideoSource() and cycleVideo() switch cameras and keep sending on the same sender', async () => {
    const r = await page.evaluate(async () => {
      const { ConveneMedia: M } = window as unknown as W;
      const pub = M.initPublisher('target');
      await pub._whenReady();
      const pc = new RTCPeerConnection();
      const { video } = pub._attach(pc);
      const first = pub.getVideoSource().track!;
      const cams = (await M.getDevices()).filter((d) => d.kind === 'videoInput');
      await pub.setVideoSource(cams[0]!.deviceId);
      const second = pub.getVideoSource().track!;
      const cycled = await pub.cycleVideo();
      pc.close();
      return {
        firstEnded: first.readyState,
        replaced: second !== first,
        onSender: video!.sender.track === pub.getVideoSource().track,
        deviceId: pub.getVideoSource().deviceId === cams[0]!.deviceId,
        cycled: cycled.deviceId === cams[(0 + 1) % cams.length]!.deviceId,
        playing: (pub.element!.querySelector('video')!.srcObject as MediaStream).getVideoTracks()[0] === pub.getVideoSource().track,
      };
    });
    expect(r).toEqual({ firstEnded: 'ended', replaced: true, onSender: true, deviceId: true, cycled: true, playing: true });
  }, 20_000);

  it('helpers: getDevices lists inputs, checkSystemRequirements is 1, screen sharing is supported, getUserMedia honours resolution', async () => {
    const r = await page.evaluate(async () => {
      const { ConveneMedia: M } = window as unknown as W;
      const devices = await M.getDevices();
      const viaCallback = await new Promise<number>((resolve) => void M.getDevices((err, d) => resolve(err ? -1 : d!.length)));
      const screen = await new Promise<boolean>((resolve) => M.checkScreenSharingCapability((res) => resolve(res.supported)));
      const stream = await M.getUserMedia({ resolution: '320x240', audioSource: null });
      const settings = stream.getVideoTracks()[0]!.getSettings();
      stream.getTracks().forEach((t) => t.stop());
      return {
        kinds: [...new Set(devices.map((d) => d.kind))].sort(),
        viaCallback: viaCallback === devices.length,
        req: M.checkSystemRequirements(),
        screen,
        audio: stream.getAudioTracks().length,
        size: [settings.width, settings.height],
      };
    });
    expect(r).toEqual({ kinds: ['audioInput', 'videoInput'], viaCallback: true, req: 1, screen: true, audio: 0, size: [320, 240] });
  }, 20_000);

  it('audioSource and videoSource both null fail with OT_INVALID_PARAMETER', async () => {
    const name = await page.evaluate(
      () =>
        new Promise<string>((resolve) => {
          const { ConveneMedia: M } = window as unknown as W;
          M.initPublisher('target', { audioSource: null, videoSource: null }, (err) => resolve(err?.name ?? 'no error'));
        }),
    );
    expect(name).toBe('OT_INVALID_PARAMETER');
  }, 20_000);
});

describe.skipIf(!hasChromium)('Publisher in Chromium when the user denies access', () => {
  let denied: MediaBrowser;
  beforeAll(async () => {
    denied = await launchMediaBrowser(DENY_ARGS);
  }, 30_000);
  afterAll(async () => {
    await denied?.close();
  });

  it('fails with OT_USER_MEDIA_ACCESS_DENIED (1500) after accessDialogOpened/Closed and accessDenied, and removes its element', async () => {
    const p = await denied.newPage();
    const r = await p.evaluate(
      () =>
        new Promise<{ name: string; code: number; events: string[]; children: number }>((resolve) => {
          const { ConveneMedia: M } = window as unknown as W;
          const events: string[] = [];
          const pub = M.initPublisher('target', {}, (err) => resolve({ name: err?.name ?? 'no error', code: (err as { code?: number })?.code ?? 0, events, children: document.getElementById('target')!.children.length }));
          pub.on('accessDenied accessAllowed accessDialogOpened accessDialogClosed', (e: Ev) => events.push(e.type));
        }),
    );
    expect(r.name).toBe('OT_USER_MEDIA_ACCESS_DENIED');
    expect(r.code).toBe(1500);
    // A fresh profile: the permission is still 'prompt', so the (auto-refused) dialog opens and closes first.
    expect(r.events).toEqual(['accessDialogOpened', 'accessDialogClosed', 'accessDenied']);
    expect(r.children).toBe(0);
  }, 20_000);
});
