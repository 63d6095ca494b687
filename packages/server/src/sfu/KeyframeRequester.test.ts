import { describe, expect, it } from 'vitest';
import { KeyframeRequester } from './KeyframeRequester.js';

describe('KeyframeRequester', () => {
  function make(interval = 500): { k: KeyframeRequester; sent: Array<[boolean, number]> } {
    const sent: Array<[boolean, number]> = [];
    return {
      k: new KeyframeRequester((fir, seq) => {
        sent.push([fir, seq]);
        return true;
      }, interval),
      sent,
    };
  }

  it('sends the first request at once', () => {
    const { k, sent } = make();
    expect(k.request(1000)).toBe(true);
    expect(sent).toEqual([[false, 0]]);
  });

  it('coalesces many requests within the interval into one deferred request', () => {
    const { k, sent } = make();
    k.request(1000);
    for (let i = 0; i < 50; i++) expect(k.request(1000 + i)).toBe(false);
    k.tick(1400);
    expect(sent.length).toBe(1);
    k.tick(1500);
    expect(sent.length).toBe(2);
    k.tick(2500);
    expect(sent.length).toBe(2);
    expect(k.requested).toBe(51);
    expect(k.sent).toBe(2);
  });

  it('drops a deferred request when a keyframe arrives first', () => {
    const { k, sent } = make();
    k.request(0);
    k.request(100);
    k.onKeyframe();
    k.tick(1000);
    expect(sent.length).toBe(1);
  });

  it('sends a FIR with an incrementing command sequence number when asked for one', () => {
    const { k, sent } = make();
    k.request(0, true);
    k.request(600, true);
    k.request(1200, false);
    expect(sent).toEqual([
      [true, 1],
      [true, 2],
      [false, 2],
    ]);
  });

  it('keeps a request pending while it cannot be sent, and sends it on the next tick that can', () => {
    let canSend = false;
    let sent = 0;
    const k = new KeyframeRequester(() => {
      if (canSend) sent++;
      return canSend;
    }, 500);
    expect(k.request(0)).toBe(false);
    expect(k.pending).toBe(true);
    canSend = true;
    k.tick(10);
    expect(sent).toBe(1);
    expect(k.pending).toBe(false);
    expect(k.sent).toBe(1);
  });
});
