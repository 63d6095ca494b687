/**
 * Integration: real node-datachannel peer connections on 127.0.0.1 publishing and subscribing through the
 * Router/Producer/Consumer classes (SDP passed in-process; the wire signaling is another layer).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidStateError } from './errors.js';
import { MediaWorker } from './MediaWorker.js';
import type { Consumer } from './Consumer.js';
import type { Producer } from './Producer.js';
import type { Router } from './Router.js';
import { seqDiff } from './rtp.js';
import { audioDescription, PUB_SSRC, TestPublisher, TestSubscriber, until, withoutCandidates } from './test-helpers/clients.js';

interface Rig {
  worker: MediaWorker;
  router: Router;
  pub: TestPublisher;
  producer: Producer;
  subs: TestSubscriber[];
  consumers: Consumer[];
}

let rig: Rig | undefined;

async function setup(subscribers: number, kind: 'audio' | 'video' = 'video'): Promise<Rig> {
  const worker = await MediaWorker.create({ listenIp: '127.0.0.1', port: 0 });
  const router = worker.createRouter();
  const pub = new TestPublisher(kind);
  const sendT = router.createWebRtcTransport();
  const { answer, producers } = await sendT.publish(await pub.offer());
  await pub.connect(answer);
  const producer = producers[0]!;
  const subs: TestSubscriber[] = [];
  const consumers: Consumer[] = [];
  rig = { worker, router, pub, producer, subs, consumers };
  for (let i = 0; i < subscribers; i++) {
    const sub = new TestSubscriber();
    subs.push(sub);
    const recvT = router.createWebRtcTransport();
    const offer = await sub.offer(kind);
    const result = await recvT.subscribe(offer, [{ mid: kind === 'video' ? 'v0' : 'a0', producer }]);
    const consumer = result.consumers[0]!;
    consumers.push(consumer);
    const opened = new Promise<void>((r) => consumer.once('open', r));
    await sub.connect(result.answer);
    await opened;
  }
  pub.start();
  return rig;
}

afterEach(() => {
  if (!rig) return;
  rig.pub.close();
  for (const s of rig.subs) s.close();
  rig.worker.close();
  rig = undefined;
});

/** Output sequence numbers of first transmissions (not retransmissions), in arrival order. */
function firstTransmissionSeqs(sub: TestSubscriber): number[] {
  return sub.packets.filter((p) => !p.rtx).map((p) => p.seq);
}

describe('Router (node-datachannel, loopback)', () => {
  it('forwards the publisher track rewritten to the consumer SSRC/PT, starting on a keyframe, with continuous sequence numbers', async () => {
    const { subs, consumers, router } = await setup(1);
    const sub = subs[0]!;
    await until(() => sub.packets.length >= 40, 5000, '40 packets at the subscriber');
    const first = sub.packets[0]!;
    expect(first.keyframe).toBe(true);
    // The subscriber chose VP8 = 98 in its offer: the SFU writes that, whatever the publisher used (96).
    expect(sub.packets.every((p) => p.ssrc === consumers[0]!.ssrc && p.pt === 98)).toBe(true);
    expect(consumers[0]!.ssrc).not.toBe(PUB_SSRC);
    const seqs = firstTransmissionSeqs(sub);
    for (let i = 1; i < seqs.length; i++) expect(seqDiff(seqs[i]!, seqs[i - 1]!)).toBe(1);
    expect(router.counters.rtpPacketsForwarded).toBeGreaterThanOrEqual(40);
  }, 15_000);

  it('repairs injected loss toward one subscriber with RTX retransmissions answering its NACKs', async () => {
    const { subs, consumers, router } = await setup(1);
    const sub = subs[0]!;
    sub.nackEnabled = true;
    await until(() => sub.packets.length >= 10, 5000, 'media flowing');
    consumers[0]!.setTestLoss(0.1);
    const start = sub.packets.at(-1)!.seq;
    await until(() => router.counters.rtpTestDropped >= 15, 10_000, '15 dropped packets');
    consumers[0]!.setTestLoss(0);
    const end = sub.packets.filter((p) => !p.rtx).at(-1)!.seq;
    await until(
      () => {
        for (let s = start; s !== ((end + 1) & 0xffff); s = (s + 1) & 0xffff) if (!sub.seen.has(s)) return false;
        return true;
      },
      5000,
      'every dropped packet repaired',
    );
    expect(sub.rtxReceived).toBeGreaterThanOrEqual(10);
    expect(sub.packets.filter((p) => p.rtx).every((p) => p.ssrc === consumers[0]!.rtxSsrc)).toBe(true);
    expect(router.counters.rtcpNackReceived).toBeGreaterThan(0);
    expect(router.counters.rtpRetransmitted).toBeGreaterThanOrEqual(sub.rtxReceived);
    const stats = consumers[0]!.getStats();
    expect(stats.nacksReceived).toBeGreaterThan(0);
    expect(stats.retransmitted).toBe(router.counters.rtpRetransmitted);
  }, 20_000);

  it('retransmits with the original payload under the output sequence number that was NACKed', async () => {
    const { subs, consumers } = await setup(1);
    const sub = subs[0]!;
    sub.nackEnabled = true;
    await until(() => sub.packets.length >= 10, 5000, 'media flowing');
    consumers[0]!.setTestLoss(0.2);
    await until(() => sub.rtxReceived >= 5, 10_000, '5 retransmissions');
    consumers[0]!.setTestLoss(0);
    // The synthetic payload's last byte is a function of the publisher's sequence number, which advances in step
    // with the output: a repaired packet must carry the same (seq - payload) relation as first transmissions.
    const rel = (p: { seq: number; payloadByte: number }): number => (p.payloadByte - p.seq) & 0xff;
    const reference = rel(sub.packets.find((p) => !p.rtx)!);
    for (const p of sub.packets.filter((q) => q.rtx)) expect(rel(p)).toBe(reference);
  }, 20_000);

  it('coalesces PLIs from two subscribers into one PLI to the publisher', async () => {
    const { subs, pub, router } = await setup(2);
    await until(() => subs.every((s) => s.packets.length >= 10), 5000, 'media at both subscribers');
    await new Promise((r) => setTimeout(r, 600)); // leave the rate-limit interval of the start-up requests
    const before = pub.plis;
    const sentBefore = router.counters.rtcpPliSent;
    subs[0]!.sendPli();
    subs[1]!.sendPli();
    subs[0]!.sendPli();
    await until(() => router.counters.rtcpPliReceived >= 3, 2000, 'PLIs at the router');
    await until(() => pub.plis > before, 2000, 'a PLI at the publisher');
    await new Promise((r) => setTimeout(r, 700)); // a deferred request would go out after 500 ms
    expect(pub.plis - before).toBe(1);
    expect(router.counters.rtcpPliSent - sentBefore).toBe(1);
  }, 15_000);

  it('resumes a paused consumer on a keyframe with no gap in the sequence numbers', async () => {
    const { subs, consumers, pub } = await setup(1);
    const sub = subs[0]!;
    await until(() => sub.packets.length >= 10, 5000, 'media flowing');
    consumers[0]!.pause();
    await new Promise((r) => setTimeout(r, 100)); // in-flight packets land
    const before = sub.packets.length;
    const plis = pub.plis;
    await new Promise((r) => setTimeout(r, 600)); // the publisher kept sending ~36 packets meanwhile
    expect(sub.packets.length).toBe(before);
    consumers[0]!.resume();
    await until(() => sub.packets.length >= before + 6, 5000, 'media after resume');
    expect(pub.plis).toBeGreaterThan(plis);
    const resumed = sub.packets[before]!;
    expect(resumed.keyframe).toBe(true);
    expect(seqDiff(resumed.seq, sub.packets[before - 1]!.seq)).toBe(1);
  }, 15_000);

  it('asks again when the keyframe it waits for does not come', async () => {
    const { subs, consumers, pub } = await setup(1);
    const sub = subs[0]!;
    await until(() => sub.packets.length >= 10, 5000, 'media flowing');
    consumers[0]!.pause();
    await new Promise((r) => setTimeout(r, 600)); // leave the keyframe rate-limit interval
    const before = sub.packets.length;
    const plis = pub.plis;
    pub.ignorePlis = 1;
    consumers[0]!.resume();
    await until(() => sub.packets.length > before, 5000, 'media after the second request');
    expect(pub.plis - plis).toBeGreaterThanOrEqual(2);
    expect(sub.packets[before]!.keyframe).toBe(true);
  }, 15_000);

  it('asks the publisher for a keyframe when a subscriber track opens, and the subscriber starts on it', async () => {
    const { pub, subs } = await setup(1);
    await until(() => subs[0]!.packets.length > 0, 5000, 'first packet');
    expect(pub.plis).toBeGreaterThanOrEqual(1);
    expect(subs[0]!.packets[0]!.keyframe).toBe(true);
  }, 15_000);

  it('sends transport-cc feedback to the publisher covering every packet with real arrival times', async () => {
    const { pub } = await setup(1);
    await until(() => pub.twcc.length >= 10, 5000, '10 feedback packets');
    const reported = pub.twcc.reduce((n, f) => n + f.received, 0);
    expect(reported).toBeGreaterThan(0);
    // Feedback is contiguous: each starts where the previous ended.
    for (let i = 1; i < pub.twcc.length; i++) {
      const prev = pub.twcc[i - 1]!;
      expect(pub.twcc[i]!.baseSeq).toBe((prev.baseSeq + prev.count) & 0xffff);
    }
    // Frames are sent every 33 ms: arrival times over the run must span roughly the sending time, not be constant.
    const all = pub.twcc.flatMap((f) => f.arrivalUs).filter((a) => !Number.isNaN(a));
    const spanMs = (all.at(-1)! - all[0]!) / 1000;
    const frames = all.length / 2;
    expect(spanMs).toBeGreaterThan((frames - 2) * 33 * 0.5);
    expect(spanMs).toBeLessThan((frames + 2) * 33 * 4); // generous: timers run late on a loaded machine
  }, 15_000);

  it('NACKs packets the publisher lost and forwards the RTX repair to subscribers', async () => {
    const { pub, subs, router, producer } = await setup(1);
    pub.withholdEvery = 7;
    await until(() => pub.retransmitted >= 10, 10_000, '10 publisher retransmissions');
    pub.withholdEvery = 0;
    expect(router.counters.rtcpNackSent).toBeGreaterThan(0);
    expect(router.counters.rtpPacketsLost).toBeGreaterThanOrEqual(10);
    // Every withheld packet was asked for.
    const asked = new Set(pub.nacks);
    const withheld = [...pub.withheld].slice(0, 10);
    for (const s of withheld) expect(asked.has(s)).toBe(true);
    // The subscriber's output has no hole once repairs are in.
    const sub = subs[0]!;
    await new Promise((r) => setTimeout(r, 300));
    const seqs = [...sub.seen].sort((a, b) => a - b);
    expect(seqs.at(-1)! - seqs[0]! + 1).toBe(seqs.length);
    const stats = producer.getStats();
    expect(stats.packetsRecovered).toBeGreaterThanOrEqual(10);
    expect(stats.packetsLost).toBeLessThan(stats.packetsMissing); // repairs count as received
  }, 20_000);

  it('sends receiver reports to the publisher and sender reports to the subscriber', async () => {
    const { pub, subs, router } = await setup(1);
    await until(() => pub.receiverReports >= 1 && subs[0]!.senderReports >= 1, 5000, 'RR and SR');
    expect(router.counters.rtcpRrSent).toBeGreaterThanOrEqual(1);
    expect(router.counters.rtcpSrSent).toBeGreaterThanOrEqual(1);
  }, 15_000);

  it('forwards Opus at once (no keyframe wait) with the audio-level extension intact', async () => {
    const { subs, consumers, producer } = await setup(1, 'audio');
    const sub = subs[0]!;
    await until(() => sub.packets.length >= 20, 5000, '20 audio packets');
    expect(producer.kind).toBe('audio');
    expect(sub.packets.every((p) => p.pt === 109 && p.ssrc === consumers[0]!.ssrc)).toBe(true);
    expect(sub.packets.every((p) => p.audioLevel === (0x80 | 42))).toBe(true);
    const seqs = firstTransmissionSeqs(sub);
    for (let i = 1; i < seqs.length; i++) expect(seqDiff(seqs[i]!, seqs[i - 1]!)).toBe(1);
  }, 15_000);

  it('never connects a subscriber whose DTLS certificate does not match the fingerprint of its offer', async () => {
    const { router, producer } = await setup(0);
    const sub = new TestSubscriber();
    rig!.subs.push(sub);
    const t = router.createWebRtcTransport();
    const offer = await sub.offer('video');
    // Flip one hex digit of the fingerprint: the certificate the peer presents no longer matches.
    const forged = offer.replace(/(a=fingerprint:sha-256 )([0-9A-F])/, (_m, p: string, d: string) => p + (d === 'A' ? 'B' : 'A'));
    expect(forged).not.toBe(offer);
    const { answer, consumers } = await t.subscribe(forged, [{ mid: 'v0', producer }]);
    const closed = new Promise<void>((r) => t.once('close', r));
    sub.pc.setRemoteDescription(answer, 'answer');
    await closed;
    expect(consumers[0]!.open).toBe(false);
    expect(consumers[0]!.closed).toBe(true);
    expect(t.verified).toBe(false);
  }, 15_000);

  it('rejects a subscription to a mid the offer does not have, or of the wrong kind', async () => {
    const { router, producer } = await setup(0);
    const sub = new TestSubscriber();
    rig!.subs.push(sub);
    const t = router.createWebRtcTransport();
    const offer = await sub.offer('audio');
    await expect(t.subscribe(offer, [{ mid: 'v0', producer }])).rejects.toThrow(TypeError);
    await expect(t.subscribe(offer, [{ mid: 'a0', producer }])).rejects.toThrow(/is audio, producer is video/);
  }, 15_000);

  it('carries audio and video of one publisher over one transport each way, with one transport-cc sequence', async () => {
    const worker = await MediaWorker.create({ listenIp: '127.0.0.1', port: 0 });
    const router = worker.createRouter();
    const pub = new TestPublisher('video', true);
    const sub = new TestSubscriber();
    rig = { worker, router, pub, producer: undefined as unknown as Producer, subs: [sub], consumers: [] };
    const { answer, producers } = await router.createWebRtcTransport().publish(await pub.offer());
    await pub.connect(answer);
    expect(producers.map((p) => p.kind)).toEqual(['video', 'audio']);
    const [video, audio] = producers as [Producer, Producer];
    const recv = router.createWebRtcTransport();
    const result = await recv.subscribe(await sub.offer(['video', 'audio']), [
      { mid: 'v0', producer: video },
      { mid: 'a0', producer: audio },
    ]);
    await sub.connect(result.answer);
    pub.start();
    await until(() => sub.packets.filter((p) => p.kind === 'video').length >= 20, 5000, 'video');
    await until(() => sub.packets.filter((p) => p.kind === 'audio').length >= 20, 5000, 'audio');
    const [cv, ca] = result.consumers as [Consumer, Consumer];
    expect(sub.packets.filter((p) => p.kind === 'video').every((p) => p.ssrc === cv.ssrc && p.pt === 98)).toBe(true);
    expect(sub.packets.filter((p) => p.kind === 'audio').every((p) => p.ssrc === ca.ssrc && p.pt === 109)).toBe(true);
    // Feedback covers both tracks' packets: transport-wide sequence numbers are shared.
    await until(() => pub.twcc.reduce((n, f) => n + f.received, 0) >= 60, 5000, 'feedback for 60 packets');
    const covered = pub.twcc.reduce((n, f) => n + f.count, 0);
    expect(covered).toBeGreaterThanOrEqual(60);
  }, 15_000);

  it('adds a track when the publisher renegotiates, keeping the existing producer', async () => {
    const { pub, producer, router } = await setup(0);
    const sendT = [...router.transports.values()][0]!;
    const extra = pub.pc.addTrack(audioDescription('1', 0x4444));
    const opened = new Promise<void>((r) => extra.onOpen(r));
    pub.pc.setLocalDescription();
    await until(() => pub.pc.localDescription()?.sdp.includes('a=mid:1') === true, 2000, 'second offer');
    const second = await sendT.publish(withoutCandidates(pub.pc.localDescription()!.sdp));
    expect(second.producers.map((p) => p.kind)).toEqual(['audio']);
    expect(producer.closed).toBe(false);
    expect(sendT.producers.size).toBe(2);
    pub.pc.setRemoteDescription(second.answer, 'answer');
    await opened;
    const audio = second.producers[0]!;
    await until(() => audio.open, 2000, 'audio producer open');
    for (let i = 0; i < 5; i++) {
      const p = Buffer.alloc(40);
      p[0] = 0x80;
      p[1] = 111;
      p.writeUInt16BE(i, 2);
      p.writeUInt32BE(i * 960, 4);
      p.writeUInt32BE(0x4444, 8);
      extra.sendMessageBinary(p);
    }
    await until(() => audio.getStats().packetsReceived === 5, 2000, '5 audio packets');
  }, 15_000);

  it('closing the publisher transport closes its producer and cascades to consumers', async () => {
    const { producer, consumers, router } = await setup(1);
    const events: string[] = [];
    producer.on('transportclose', () => events.push('producer:transportclose'));
    consumers[0]!.on('producerclose', () => events.push('consumer:producerclose'));
    const sendT = [...router.transports.values()].find((t) => t.producers.size > 0)!;
    sendT.close();
    sendT.close(); // idempotent
    expect(events).toEqual(['consumer:producerclose', 'producer:transportclose']);
    expect(producer.closed).toBe(true);
    expect(consumers[0]!.closed).toBe(true);
    expect(() => producer.pause()).toThrow(InvalidStateError);
    expect(() => consumers[0]!.resume()).toThrow(InvalidStateError);
    await expect(sendT.subscribe('', [])).rejects.toThrow(InvalidStateError);
  }, 15_000);

  it('closing the worker closes routers and transports, and stops the timer', async () => {
    const { worker, router } = await setup(1);
    const transports = [...router.transports.values()];
    worker.close();
    expect(router.closed).toBe(true);
    expect(transports.every((t) => t.closed)).toBe(true);
    expect(() => router.createWebRtcTransport()).toThrow(InvalidStateError);
    expect(() => worker.createRouter()).toThrow(InvalidStateError);
  }, 15_000);
});
