import { describe, expect, it } from 'vitest';
import { formatKbps, strengthOf } from './netTest.js';

describe('network strength', () => {
  it('is good with a short round trip and enough bandwidth for 720p both ways', () => {
    expect(strengthOf({ rttMs: 40, downKbps: 20_000, upKbps: 4000 })).toBe('good');
  });
  it('is fair when the upload only carries low-resolution video', () => {
    expect(strengthOf({ rttMs: 40, downKbps: 20_000, upKbps: 600 })).toBe('fair');
  });
  it('is poor when the round trip is too long for conversation', () => {
    expect(strengthOf({ rttMs: 900, downKbps: 20_000, upKbps: 20_000 })).toBe('poor');
  });
  it('formats kbit/s and Mbit/s', () => {
    expect(formatKbps(800)).toBe('800 kbit/s');
    expect(formatKbps(12_345)).toBe('12.3 Mbit/s');
  });
});
