// Page-side helpers for the media tests: an RTCPeerConnection in a Chromium page, driven
// from Node through page.evaluate, and its getStats() reduced to what the tests assert on.
import type { Page } from 'playwright-core';

/** inbound-rtp / outbound-rtp fields the tests read (Chromium names). */
export interface PageRtpStats {
  kind: 'audio' | 'video';
  ssrc: number;
  packetsReceived?: number;
  packetsLost?: number;
  packetsSent?: number;
  bytesReceived?: number;
  framesDecoded?: number;
  keyFramesDecoded?: number;
  framesDropped?: number;
  frameWidth?: number;
  frameHeight?: number;
  pliCount?: number;
  firCount?: number;
  nackCount?: number;
  totalSamplesReceived?: number;
  concealedSamples?: number;
  silentConcealedSamples?: number;
  framesEncoded?: number;
  keyFramesEncoded?: number;
  retransmittedPacketsSent?: number;
}

/** Creates `window.pc`; remote audio is played through an <audio> element so it is decoded. */
export async function createPagePeer(page: Page): Promise<void> {
  await page.evaluate(() => {
    const pc = new RTCPeerConnection();
    (window as unknown as { pc: RTCPeerConnection }).pc = pc;
    pc.ontrack = (e) => {
      if (e.track.kind !== 'audio') return;
      const a = new Audio();
      a.srcObject = new MediaStream([e.track]);
      document.body.append(a);
      void a.play();
    };
  });
}

/** The page answers an offer; resolves with its answer once ICE gathering completed. */
export async function pageAnswer(page: Page, offerSdp: string): Promise<string> {
  return page.evaluate(async (sdp) => {
    const pc = (window as unknown as { pc: RTCPeerConnection }).pc;
    await pc.setRemoteDescription({ type: 'offer', sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    await new Promise<void>((resolve) => {
      if (pc.iceGatheringState === 'complete') resolve();
      else pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
    });
    return (pc.localDescription as RTCSessionDescription).sdp;
  }, offerSdp);
}

/** The page publishes its fake camera and microphone; resolves with its offer (all candidates). */
export async function pagePublishOffer(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const pc = (window as unknown as { pc: RTCPeerConnection }).pc;
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480, frameRate: 30 } });
    for (const t of stream.getTracks()) pc.addTrack(t, stream);
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise<void>((resolve) => {
      if (pc.iceGatheringState === 'complete') resolve();
      else pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
    });
    return (pc.localDescription as RTCSessionDescription).sdp;
  });
}

/** Applies an answer in the page. */
export async function pageApplyAnswer(page: Page, sdp: string): Promise<void> {
  await page.evaluate(async (answer) => {
    const pc = (window as unknown as { pc: RTCPeerConnection }).pc;
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
  }, sdp);
}

/** inbound-rtp or outbound-rtp stats of the page, by kind. */
export async function pageRtpStats(page: Page, type: 'inbound-rtp' | 'outbound-rtp'): Promise<{ audio?: PageRtpStats; video?: PageRtpStats }> {
  return page.evaluate(async (wanted) => {
    const pc = (window as unknown as { pc: RTCPeerConnection }).pc;
    const out: { audio?: PageRtpStats; video?: PageRtpStats } = {};
    (await pc.getStats()).forEach((s: PageRtpStats & { type: string }) => {
      if (s.type === wanted) out[s.kind] = s;
    });
    return out;
  }, type);
}

/** Polls `read` every 100 ms until `done` holds (or rejects after `timeoutMs`). */
export async function waitFor<T>(read: () => Promise<T> | T, done: (v: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await read();
  while (!done(last)) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
    last = await read();
  }
  return last;
}
