import { describe, expect, it } from 'vitest';
import { TypedEmitter } from './TypedEmitter.js';

type Events = { a: [number]; b: [] };

describe('TypedEmitter', () => {
  it('keeps calling the other listeners when one throws', () => {
    const e = new TypedEmitter<Events>();
    const errors: unknown[] = [];
    e.onListenerError = (err) => errors.push(err);
    const seen: number[] = [];
    e.on('a', () => {
      throw new Error('boom');
    });
    e.on('a', (n) => seen.push(n));
    expect(e.emit('a', 1)).toBe(true);
    expect(seen).toEqual([1]);
    expect(errors).toHaveLength(1);
  });

  it('runs a once listener a single time', () => {
    const e = new TypedEmitter<Events>();
    let n = 0;
    e.once('b', () => n++);
    e.emit('b');
    e.emit('b');
    expect(n).toBe(1);
    expect(e.listenerCount('b')).toBe(0);
  });

  it('removes one listener, all of an event, or everything', () => {
    const e = new TypedEmitter<Events>();
    const f = (): void => {};
    e.on('a', f).on('a', () => {}).on('b', f);
    e.off('a', f);
    expect(e.listenerCount('a')).toBe(1);
    e.off('a');
    expect(e.listenerCount('a')).toBe(0);
    e.off();
    expect(e.listenerCount('b')).toBe(0);
  });

  it('emits to a snapshot so a listener removing another does not skip it', () => {
    const e = new TypedEmitter<Events>();
    const calls: string[] = [];
    const second = (): void => void calls.push('second');
    e.on('b', () => {
      calls.push('first');
      e.off('b', second);
    });
    e.on('b', second);
    e.emit('b');
    expect(calls).toEqual(['first', 'second']);
  });
});
