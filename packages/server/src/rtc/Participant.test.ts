import { describe, expect, it } from 'vitest';
import { frame, Participant, tailOf, type FrameSink } from './Participant.js';

function make(limits = { maxFrames: 100, maxBytes: 1 << 20 }, attached = true): { p: Participant; sent: string[] } {
  const sent: string[] = [];
  const sink: FrameSink = { send: (f) => sent.push(f), close: () => {} };
  const p = new Participant({
    connectionId: 'c1',
    resumeToken: 't',
    info: { connectionId: 'c1', creationTime: 1, data: '', userName: 'u', userIdentity: '', role: 'publisher', isHost: false, isManager: false },
    joinOrder: 0,
    idleTimeoutMins: null,
    sink: attached ? sink : null,
    limits,
  });
  return { p, sent };
}

describe('Participant replay buffer', () => {
  it('frames a shared tail with the recipient envelope and sequence', () => {
    const tail = tailOf({ type: 'signal', from: null, signalType: '', data: 'x' });
    expect(JSON.parse(frame(7, tail))).toEqual({ v: 1, q: 7, type: 'signal', from: null, signalType: '', data: 'x' });
  });

  it('numbers frames from 1 and sends them while attached', () => {
    const { p, sent } = make();
    p.push('"type":"a"}');
    p.push('"type":"b"}');
    expect(sent.map((s) => JSON.parse(s).q)).toEqual([1, 2]);
    expect(p.pending.frames).toBe(2);
  });

  it('ack drops frames up to the acknowledged sequence, ignoring acks beyond it', () => {
    const { p } = make();
    for (let i = 0; i < 5; i++) p.push('"type":"x"}');
    p.ack(3);
    expect(p.pending.frames).toBe(2);
    p.ack(2);
    expect(p.pending.frames).toBe(2);
    p.ack(99);
    expect(p.pending).toEqual({ frames: 0, bytes: 0 });
  });

  it('replays exactly the frames after lastSeq on attach', () => {
    const { p } = make(undefined, false);
    for (let i = 1; i <= 5; i++) p.push(`"type":"x","n":${i}}`);
    expect(p.canReplayFrom(2)).toBe(true);
    const got: string[] = [];
    p.attach({ send: (f) => got.push(f), close: () => {} }, 2);
    expect(got.map((f) => JSON.parse(f))).toEqual([3, 4, 5].map((n) => ({ v: 1, q: n, type: 'x', n })));
  });

  it('cannot replay from before an ack or beyond the last sequence', () => {
    const { p } = make();
    for (let i = 0; i < 5; i++) p.push('"type":"x"}');
    p.ack(3);
    expect(p.canReplayFrom(2)).toBe(false);
    expect(p.canReplayFrom(3)).toBe(true);
    expect(p.canReplayFrom(5)).toBe(true);
    expect(p.canReplayFrom(6)).toBe(false);
  });

  it('reports overflow while away', () => {
    const { p } = make({ maxFrames: 3, maxBytes: 1 << 20 }, false);
    expect(p.push('"type":"x"}')).toBe(true);
    expect(p.push('"type":"x"}')).toBe(true);
    expect(p.push('"type":"x"}')).toBe(true);
    expect(p.push('"type":"x"}')).toBe(false);
  });

  it('trims the oldest frames of an attached participant that does not ack, keeping it connected', () => {
    const { p, sent } = make({ maxFrames: 3, maxBytes: 1 << 20 });
    for (let i = 0; i < 10; i++) expect(p.push('"type":"x"}')).toBe(true);
    expect(sent).toHaveLength(10);
    expect(p.pending.frames).toBe(3);
    expect(p.canReplayFrom(6)).toBe(false);
    expect(p.canReplayFrom(7)).toBe(true);
  });

  it('bounds the buffer by bytes too', () => {
    const { p } = make({ maxFrames: 1000, maxBytes: 100 }, false);
    expect(p.push('"type":"x","d":"' + 'y'.repeat(50) + '"}')).toBe(true);
    expect(p.push('"type":"x","d":"' + 'y'.repeat(50) + '"}')).toBe(false);
  });

  it('caches the info JSON until the info changes', () => {
    const { p } = make();
    const j1 = p.infoJson;
    expect(p.infoJson).toBe(j1);
    p.update({ userName: 'v' });
    expect(JSON.parse(p.infoJson).userName).toBe('v');
  });
});
