import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, hasChromium, startE2E, type E2E } from './test-helpers/e2e.js';

/*
 * Simulcast end to end in real headless Chromium through our SFU on the native transport: a page publishes its
 * (fake) camera at 1280x720 as three layers, another subscribes with a preferred resolution, and the frame size it
 * decodes follows that preference. libdatachannel drops the SSRCs browsers send simulcast layers on, so the
 * server only accepts simulcast on the native transport (@convene/media-native): without it this file is skipped.
 */

/** Why the native transport cannot be used here, or null when it can. */
const nativeMissing = ((): string | null => {
  try {
    createRequire(import.meta.url)('@convene/media-native');
    return null;
  } catch (err) {
    return err instanceof Error ? err.message.split('\n')[0]! : String(err);
  }
})();

const title = nativeMissing
  ? `simulcast in Chromium through the SFU (SKIPPED: needs the native media transport; @convene/media-native cannot be loaded: ${nativeMissing})`
  : 'simulcast in Chromium through the SFU (native transport)';

let e2e: E2E;
const open: Page[] = [];
let n = 0;

beforeAll(async () => {
  if (!hasChromium || nativeMissing) return;
  e2e = await startE2E({ server: { mediaTransport: 'native' } });
}, 60_000);
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close().catch(() => undefined)));
});
afterAll(async () => {
  await e2e?.close();
});

/** A page of `on` (default: the native server) connected to a session as `window.session`. */
async function joined(sid: string, on: E2E = e2e): Promise<Page> {
  const p = await on.page();
  open.push(p);
  const token = await on.token(sid);
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

/** The decoded video frame size and count of `window.sub` now. */
function decoded(p: Page): Promise<{ frameWidth: number; frameHeight: number; framesDecoded: number }> {
  return p.evaluate(async () => {
    const w = window as any;
    const s = await w.e2e.inbound(w.sub);
    return { frameWidth: s.video?.frameWidth ?? 0, frameHeight: s.video?.frameHeight ?? 0, framesDecoded: s.video?.framesDecoded ?? 0 };
  });
}

/** Polls the subscriber until `pred` holds for its decoded video, for up to `ms`; returns the last reading. */
async function until(p: Page, pred: (v: { frameWidth: number; framesDecoded: number }) => boolean, ms: number, what: string) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await decoded(p);
    if (pred(v)) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe.skipIf(!hasChromium || nativeMissing !== null)(title, () => {
  it('a subscriber preferring 320x240 decodes at most 320 px wide; preferring 1280x720 makes the width rise', async () => {
    const sid = `e2e-simulcast-${++n}-${Date.now()}`;
    const a = await joined(sid);
    const b = await joined(sid);
    const streamId = await a.evaluate(async () => {
      const w = window as any;
      w.publisher = await w.e2e.publish(w.session, 'publisher', { name: 'camera', resolution: '1280x720', width: 320, height: 180 });
      return w.publisher.stream.streamId as string;
    });
    // The publisher sends three layers (outbound-rtp per rid).
    const rids = await a.evaluate(async () => {
      const w = window as any;
      return w.e2e.waitFor(async () => {
        const reports = await w.publisher.getRtcStatsReport();
        const found: string[] = [];
        for (const { rtcStatsReport } of reports) rtcStatsReport.forEach((s: any) => s.type === 'outbound-rtp' && s.kind === 'video' && s.rid && found.push(s.rid));
        return found.length === 3 ? found.sort() : null;
      }, 10000, 'three outbound video layers');
    });
    expect(rids).toEqual(['f', 'h', 'q']);

    await b.evaluate(async (streamId) => {
      const w = window as any;
      const stream = await w.e2e.waitFor(() => w.session.streams.find((s: any) => s.streamId === streamId), 10000, 'the stream');
      w.sub = await w.e2e.subscribe(w.session, stream, 'subscribers', { insertMode: 'append', preferredResolution: { width: 320, height: 240 } });
    }, streamId);
    // The stream still announces the camera's full size, whatever layer this subscriber receives.
    expect(await b.evaluate(() => (window as any).sub.stream.videoDimensions)).toEqual({ width: 1280, height: 720 });

    const low = await until(b, (v) => v.framesDecoded >= 30, 15_000, '30 decoded frames');
    expect(low.frameWidth).toBeGreaterThan(0);
    expect(low.frameWidth).toBeLessThanOrEqual(320);

    await b.evaluate(() => (window as any).sub.setPreferredResolution({ width: 1280, height: 720 }));
    // The top layer needs the publisher's bandwidth estimate to have ramped up: allow it some seconds.
    const high = await until(b, (v) => v.frameWidth > 320, 30_000, 'a frame wider than 320 px');
    expect(high.frameWidth).toBeGreaterThan(320);

    await b.evaluate(() => (window as any).sub.setPreferredResolution({ width: 320, height: 240 }));
    const back = await until(b, (v) => v.frameWidth <= 320, 15_000, 'frames of at most 320 px again');
    expect(back.frameWidth).toBeLessThanOrEqual(320);
  }, 90_000);
});

describe.skipIf(!hasChromium)('no simulcast on the libdatachannel transport', () => {
  let ldc: E2E;
  beforeAll(async () => {
    ldc = await startE2E({ server: { mediaTransport: 'libdatachannel' } });
  }, 60_000);
  afterAll(async () => {
    await Promise.all(open.splice(0).map((p) => p.close().catch(() => undefined)));
    await ldc?.close();
  });

  it('the server says simulcast: false, so a 1280x720 camera publishes one full-size encoding', async () => {
    const sid = `e2e-no-simulcast-${++n}-${Date.now()}`;
    const a = await joined(sid, ldc);
    const b = await joined(sid, ldc);
    const streamId = await a.evaluate(async () => {
      const w = window as any;
      w.publisher = await w.e2e.publish(w.session, 'publisher', { name: 'camera', resolution: '1280x720', width: 320, height: 180 });
      return w.publisher.stream.streamId as string;
    });
    const encodings = await a.evaluate(async () => {
      const w = window as any;
      const out: Array<string | null> = [];
      for (const { rtcStatsReport } of await w.publisher.getRtcStatsReport()) rtcStatsReport.forEach((s: any) => s.type === 'outbound-rtp' && s.kind === 'video' && out.push(s.rid ?? null));
      return out;
    });
    expect(encodings).toEqual([null]);
    await b.evaluate(async (streamId) => {
      const w = window as any;
      const stream = await w.e2e.waitFor(() => w.session.streams.find((s: any) => s.streamId === streamId), 10000, 'the stream');
      w.sub = await w.e2e.subscribe(w.session, stream, 'subscribers', { insertMode: 'append', preferredResolution: { width: 320, height: 240 } });
    }, streamId);
    // Without layers the preference cannot apply: the subscriber gets what the publisher sends, which grows past
    // 320 px wide as its bandwidth estimate ramps up (Chromium starts a 720p encoding scaled down).
    const v = await until(b, (d) => d.frameWidth > 320, 30_000, 'a frame wider than 320 px');
    expect(v.frameWidth).toBeGreaterThan(320);
  }, 60_000);
});
