// The Node media peer against real headless Chromium on loopback: Chromium decodes what the
// Node peer sends, and the Node peer counts what Chromium sends. No server in between.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { NodePeerConnection } from './NodePeerConnection.js';
import { withoutCandidates } from '../peer.js';
import { hasChromium, launchChromium, type ChromiumHarness } from './test-helpers/chromium.js';
import {
  createPagePeer,
  pageAnswer,
  pageApplyAnswer,
  pagePublishOffer,
  pageRtpStats,
  waitFor,
  type PageRtpStats,
} from './test-helpers/pageRtc.js';
import { parseRtpPacket } from './rtp.js';
import { parseVp8Payload } from './vp8Rtp.js';
import type { Page } from 'playwright-core';

let chromium: ChromiumHarness;
const peers: NodePeerConnection[] = [];
const pages: Page[] = [];

beforeAll(async () => {
  chromium = await launchChromium();
}, 30_000);

afterEach(async () => {
  for (const p of peers.splice(0)) p.close();
  for (const p of pages.splice(0)) await p.close();
});

afterAll(async () => {
  await chromium?.close();
});

async function nodeToPage(options: ConstructorParameters<typeof NodePeerConnection>[0] = {}, video: Parameters<NodePeerConnection['addVideoSource']>[0] = {}) {
  const page = await chromium.newPage();
  pages.push(page);
  await createPagePeer(page);
  const pc = new NodePeerConnection({ bindAddress: '127.0.0.1', ...options });
  peers.push(pc);
  const videoSource = pc.addVideoSource({ width: 640, height: 480, fps: 30, bitrate: 500_000, ...video });
  const audioSource = pc.addAudioSource();
  const offer = await pc.createOffer();
  // Offer without our candidates, as the SDK does (media/peer.ts): with them, Chromium starts ICE and
  // DTLS before we hold its answer, and libdatachannel then fails the handshake (seen ~1 run in 20).
  const answer = await pageAnswer(page, withoutCandidates(offer.sdp));
  await pc.setRemoteDescription({ type: 'answer', sdp: answer });
  return { page, pc, videoSource, audioSource };
}

const inbound = (page: Page) => pageRtpStats(page, 'inbound-rtp');

describe.skipIf(!hasChromium)('Node peer → Chromium', () => {
  test('Chromium decodes the synthetic VP8: framesDecoded rises at 640x480 with no frame dropped', async () => {
    const { page } = await nodeToPage();
    const first = await waitFor(() => inbound(page), (s) => (s.video?.framesDecoded ?? 0) >= 15, 10_000, 'first frames');
    const later = await waitFor(() => inbound(page), (s) => (s.video?.framesDecoded ?? 0) >= (first.video?.framesDecoded ?? 0) + 45, 10_000, '45 more frames');
    const v = later.video as PageRtpStats;
    expect(v.frameWidth).toBe(640);
    expect(v.frameHeight).toBe(480);
    expect(v.keyFramesDecoded).toBeGreaterThanOrEqual(1);
    expect(v.framesDropped).toBe(0);
    expect(v.packetsLost).toBe(0);
  }, 30_000);

  test('Chromium decodes the synthetic Opus as real samples: totalSamplesReceived rises, concealedSamples does not', async () => {
    const { page } = await nodeToPage();
    const first = await waitFor(() => inbound(page), (s) => (s.audio?.totalSamplesReceived ?? 0) >= 48_000, 10_000, '1 s of audio');
    const later = await waitFor(
      () => inbound(page),
      (s) => (s.audio?.totalSamplesReceived ?? 0) >= (first.audio?.totalSamplesReceived ?? 0) + 96_000,
      10_000,
      '2 more seconds of audio',
    );
    const a0 = first.audio as PageRtpStats;
    const a1 = later.audio as PageRtpStats;
    expect(a1.packetsReceived).toBeGreaterThan(a0.packetsReceived ?? 0);
    // Samples added over two seconds are decoded, not concealment: undecodable packets would
    // be 100 % concealed; timer jitter on a loaded machine costs a few packets at most.
    const received = (a1.totalSamplesReceived ?? 0) - (a0.totalSamplesReceived ?? 0);
    const concealed = (a1.concealedSamples ?? 0) - (a0.concealedSamples ?? 0);
    expect(concealed / received).toBeLessThan(0.05);
  }, 30_000);

  test('Chromium accepts abs-capture-time and reads our send time from it (RTCRtpReceiver captureTimestamp)', async () => {
    const { page } = await nodeToPage();
    await waitFor(() => inbound(page), (s) => (s.video?.framesDecoded ?? 0) >= 10, 10_000, 'frames');
    const answer = await page.evaluate(() => (window as unknown as { pc: RTCPeerConnection }).pc.localDescription?.sdp ?? '');
    expect(answer).toContain('http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time');
    const sources = await page.evaluate(() =>
      (window as unknown as { pc: RTCPeerConnection }).pc
        .getReceivers()
        .flatMap((r) => r.getSynchronizationSources() as (RTCRtpSynchronizationSource & { captureTimestamp?: number })[])
        .map((s) => ({ captureTimestamp: s.captureTimestamp ?? null, receivedAt: s.timestamp })),
    );
    expect(sources.length).toBe(2);
    for (const s of sources) {
      // Chromium reports it in ms on the NTP epoch (1900); our send time is shortly before arrival.
      const sentAtUnixMs = (s.captureTimestamp as number) - 2_208_988_800_000;
      expect(s.receivedAt - sentAtUnixMs).toBeGreaterThanOrEqual(-1);
      expect(s.receivedAt - sentAtUnixMs).toBeLessThan(1000);
    }
  }, 30_000);

  test('a PLI from Chromium makes the bot send a key frame that Chromium decodes', async () => {
    // The first key frame is lost (and retransmission disabled): Chromium can only recover by
    // asking for a new one.
    let droppingKeyframe = true;
    let inKeyframe = false;
    const { page, videoSource } = await nodeToPage(
      {
        dropOutgoing: (pkt, kind) => {
          if (kind !== 'video' || !droppingKeyframe) return false;
          const rtp = parseRtpPacket(pkt);
          const vp8 = rtp ? parseVp8Payload(rtp.payload) : null;
          if (vp8?.frameStart) inKeyframe = vp8.keyframe;
          const drop = inKeyframe;
          if (inKeyframe && rtp?.marker) droppingKeyframe = false;
          return drop;
        },
      },
      { keyframeIntervalMs: 0, retransmitBufferSize: 0 },
    );
    const s = await waitFor(() => inbound(page), (st) => (st.video?.keyFramesDecoded ?? 0) >= 1, 10_000, 'a decoded key frame');
    expect(droppingKeyframe).toBe(false);
    expect(s.video?.pliCount ?? 0).toBeGreaterThanOrEqual(1);
    expect(videoSource.stats.plisReceived).toBeGreaterThanOrEqual(1);
    expect(videoSource.stats.keyframesSent).toBeGreaterThanOrEqual(2);
    await waitFor(() => inbound(page), (st) => (st.video?.framesDecoded ?? 0) >= 30, 10_000, 'frames after the key frame');
  }, 30_000);

  test('NACKs from Chromium are answered from the retransmission buffer and nothing stays lost', async () => {
    let n = 0;
    const retransmitted = new Set<number>();
    const { page, videoSource } = await nodeToPage({
      // Drop every 25th first transmission of a video packet; retransmissions pass.
      dropOutgoing: (pkt, kind) => {
        if (kind !== 'video') return false;
        const seq = pkt.readUInt16BE(2);
        if (retransmitted.has(seq)) return false;
        if (++n % 25 === 0) {
          retransmitted.add(seq);
          return true;
        }
        return false;
      },
    });
    const s = await waitFor(() => inbound(page), (st) => (st.video?.framesDecoded ?? 0) >= 90, 15_000, '90 frames');
    expect(retransmitted.size).toBeGreaterThan(0);
    expect(s.video?.nackCount ?? 0).toBeGreaterThan(0);
    expect(videoSource.stats.nacksReceived).toBeGreaterThan(0);
    expect(videoSource.stats.packetsRetransmitted).toBeGreaterThan(0);
    // Chromium counts a packet as lost until its retransmission arrives.
    expect(s.video?.packetsLost ?? 0).toBeLessThan(retransmitted.size);
  }, 30_000);
});

describe.skipIf(!hasChromium)('Chromium → Node peer', () => {
  async function pageToNode() {
    const page = await chromium.newPage();
    pages.push(page);
    await createPagePeer(page);
    const pc = new NodePeerConnection({ bindAddress: '127.0.0.1' });
    peers.push(pc);
    const offer = await pagePublishOffer(page);
    await pc.setRemoteDescription({ type: 'offer', sdp: offer });
    const answer = await pc.createAnswer();
    await pageApplyAnswer(page, answer.sdp);
    return { page, pc };
  }

  test('the Node peer counts packets, frames, bytes and key frames of the fake camera and microphone', async () => {
    const { page, pc } = await pageToNode();
    const stats = await waitFor(
      () => pc.getStats().inbound,
      (ins) => ins.some((i) => i.kind === 'video' && i.framesReceived >= 45) && ins.some((i) => i.kind === 'audio' && i.packetsReceived >= 100),
      15_000,
      'video frames and audio packets',
    );
    const video = stats.find((i) => i.kind === 'video');
    const audio = stats.find((i) => i.kind === 'audio');
    expect(video?.keyframesReceived).toBeGreaterThanOrEqual(1);
    expect(video?.frameWidth).toBe(640);
    expect(video?.frameHeight).toBe(480);
    expect(video?.bytesReceived).toBeGreaterThan(video?.packetsReceived ?? 0);
    expect(video?.packetsLost).toBe(0);
    expect(audio?.packetsLost).toBe(0);
    const out = await pageRtpStats(page, 'outbound-rtp');
    // What Chromium says it sent, counted before our snapshot, cannot exceed what we then count.
    expect(out.video?.packetsSent ?? 0).toBeGreaterThanOrEqual(video?.packetsReceived ?? Infinity);
    expect(pc.getStats().inbound.find((i) => i.kind === 'video')?.packetsReceived ?? 0).toBeGreaterThanOrEqual(video?.packetsReceived ?? 0);
  }, 30_000);

  test("the Node peer's PLI makes Chromium send a key frame", async () => {
    const { page, pc } = await pageToNode();
    const track = await new Promise<NonNullable<(typeof pc.remoteTracks)[number]>>((resolve) => {
      const found = pc.remoteTracks.find((t) => t.kind === 'video');
      if (found) resolve(found);
      else pc.on('track', (t) => t.kind === 'video' && resolve(t));
    });
    await waitFor(() => track.stats(), (s) => s.framesReceived >= 30, 15_000, 'first frames');
    const before = track.stats().keyframesReceived;
    expect(track.requestKeyframe()).toBe(true);
    await waitFor(() => track.stats(), (s) => s.keyframesReceived > before, 10_000, 'a new key frame');
    const out = await waitFor(() => pageRtpStats(page, 'outbound-rtp'), (s) => (s.video?.pliCount ?? 0) >= 1, 5_000, 'pliCount');
    expect(out.video?.pliCount).toBeGreaterThanOrEqual(1);
  }, 30_000);
});
