import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, hasChromium, startE2E, type E2E } from './test-helpers/e2e.js';

/*
 * Congestion control end to end: Chrome's send-side bandwidth estimate for a publisher depends on the
 * transport-wide CC feedback our SFU sends. Without it (or with a constant REMB) the estimate collapses
 * within seconds; with real feedback it holds. One ~65 s test on purpose.
 */

let e2e: E2E;
beforeAll(async () => {
  if (hasChromium) e2e = await startE2E();
}, 60_000);
afterAll(async () => {
  await e2e?.close();
});

describe.skipIf(!hasChromium)('publisher bandwidth estimate', () => {
  it("the publisher's availableOutgoingBitrate stays up over 60 s (transport-cc feedback from the SFU)", async () => {
    const sid = `e2e-bwe-${Date.now()}`;
    const a = await e2e.page();
    const b = await e2e.page();
    const [ta, tb] = await Promise.all([e2e.token(sid), e2e.token(sid)]);
    const streamId = await a.evaluate(
      async ({ apiKey, sid, token }) => {
        const w = window as any;
        w.session = w.OT.initSession(apiKey, sid);
        await w.e2e.connect(w.session, token);
        w.publisher = await w.e2e.publish(w.session, 'publisher', { resolution: '1280x720', width: 320, height: 180 });
        return w.publisher.stream.streamId as string;
      },
      { apiKey: API_KEY, sid, token: ta },
    );
    await b.evaluate(
      async ({ apiKey, sid, token, streamId }) => {
        const w = window as any;
        w.session = w.OT.initSession(apiKey, sid);
        await w.e2e.connect(w.session, token);
        const stream = await w.e2e.waitFor(() => w.session.streams.find((s: any) => s.streamId === streamId));
        w.sub = await w.e2e.subscribe(w.session, stream, 'subscribers', { insertMode: 'append' });
      },
      { apiKey: API_KEY, sid, token: tb, streamId },
    );
    const samples: { t: number; kbps: number; fps: number; decoded: number }[] = [];
    const t0 = Date.now();
    while (Date.now() - t0 < 60_000) {
      await new Promise((r) => setTimeout(r, 5000));
      const [out, inb] = await Promise.all([
        a.evaluate(async () => (window as any).e2e.outbound((window as any).publisher)),
        b.evaluate(async () => (window as any).e2e.inbound((window as any).sub)),
      ]);
      samples.push({
        t: Math.round((Date.now() - t0) / 1000),
        kbps: Math.round((out.pair?.availableOutgoingBitrate ?? 0) / 1000),
        fps: Math.round(out.video?.framesPerSecond ?? 0),
        decoded: inb.video?.framesDecoded ?? 0,
      });
    }
    process.stdout.write(`[bwe] ${samples.map((s) => `${s.t}s:${s.kbps}kbps/${s.fps}fps`).join(' ')}\n`);
    const peak = Math.max(...samples.map((s) => s.kbps));
    // With simulcast Chrome ramps its estimate up layer by layer and may still creep up by a few % late in the
    // minute: "ramped" is the first sample within 90 % of the peak.
    const rampedAt = samples.findIndex((s) => s.kbps >= peak * 0.9);
    // The estimate ramps up from Chrome's ≈300 kbit/s start to a real figure within 30 s...
    expect(peak).toBeGreaterThan(1000);
    expect(samples[rampedAt]!.t).toBeLessThanOrEqual(30);
    // ...and holds: never below 70 % of its peak afterwards (without feedback it would collapse).
    for (const s of samples.slice(rampedAt)) expect(s.kbps, `estimate at ${s.t} s`).toBeGreaterThanOrEqual(peak * 0.7);
    // And the video keeps flowing to the subscriber at the end.
    expect(samples.at(-1)!.decoded).toBeGreaterThan(samples.at(-2)!.decoded);
  }, 120_000);
});
