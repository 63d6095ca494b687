import { afterEach, describe, expect, it } from 'vitest';
import { ConveneEvent } from './ConveneEvent.js';
import { EventDispatcher } from './EventDispatcher.js';
import { setLogger } from './logger.js';

type Events = { a: ConveneEvent; b: ConveneEvent; c: ConveneEvent };

class Dispatcher extends EventDispatcher<Events> {
  fire(type: string): ConveneEvent {
    const e = new ConveneEvent(type);
    this.dispatch(e);
    return e;
  }
}

afterEach(() => setLogger(null));

describe('EventDispatcher', () => {
  it('on(type, handler) calls the handler with the event for every dispatch, this = the dispatcher', () => {
    const d = new Dispatcher();
    const calls: [unknown, string][] = [];
    d.on('a', function (this: unknown, e: ConveneEvent) {
      calls.push([this, e.type]);
    });
    d.fire('a');
    d.fire('a');
    d.fire('b');
    expect(calls).toEqual([
      [d, 'a'],
      [d, 'a'],
    ]);
  });

  it('sets event.target to the dispatcher', () => {
    const d = new Dispatcher();
    let target: unknown;
    d.on('a', (e: ConveneEvent) => (target = e.target));
    d.fire('a');
    expect(target).toBe(d);
  });

  it('on("a b", handler) registers for each space-separated name', () => {
    const d = new Dispatcher();
    const seen: string[] = [];
    d.on('a  b', (e: ConveneEvent) => seen.push(e.type));
    d.fire('a');
    d.fire('b');
    d.fire('c');
    expect(seen).toEqual(['a', 'b']);
  });

  it('on(type, handler, context) calls the handler with this = context', () => {
    const d = new Dispatcher();
    const ctx = { name: 'ctx' };
    let self: unknown;
    d.on(
      'a',
      function (this: unknown) {
        self = this;
      },
      ctx,
    );
    d.fire('a');
    expect(self).toBe(ctx);
  });

  it('on({a: fa, b: fb}, context) registers the hash-map form with a context', () => {
    const d = new Dispatcher();
    const ctx = {};
    const seen: [string, unknown][] = [];
    d.on(
      {
        a(this: unknown) {
          seen.push(['a', this]);
        },
        b(this: unknown) {
          seen.push(['b', this]);
        },
      },
      ctx,
    );
    d.fire('a');
    d.fire('b');
    expect(seen).toEqual([
      ['a', ctx],
      ['b', ctx],
    ]);
  });

  it('once(type, handler) runs the handler on the first event only', () => {
    const d = new Dispatcher();
    let count = 0;
    d.once('a', () => count++);
    d.fire('a');
    d.fire('a');
    expect(count).toBe(1);
    expect(d.listenerCount('a')).toBe(0);
  });

  it('once("a b", handler) runs once in all, for the first of the named events', () => {
    const d = new Dispatcher();
    const seen: string[] = [];
    d.once('a b', (e: ConveneEvent) => seen.push(e.type));
    d.fire('b');
    d.fire('a');
    d.fire('b');
    expect(seen).toEqual(['b']);
    expect(d.listenerCount('a') + d.listenerCount('b')).toBe(0);
  });

  it('once({a, b}) hash-map form runs each handler once', () => {
    const d = new Dispatcher();
    const seen: string[] = [];
    d.once({ a: () => seen.push('a'), b: () => seen.push('b') });
    d.fire('a');
    d.fire('a');
    d.fire('b');
    d.fire('b');
    expect(seen).toEqual(['a', 'b']);
  });

  it('off(type, handler) removes only that handler', () => {
    const d = new Dispatcher();
    const seen: string[] = [];
    const h1 = (): number => seen.push('h1');
    const h2 = (): number => seen.push('h2');
    d.on('a', h1);
    d.on('a', h2);
    d.off('a', h1);
    d.fire('a');
    expect(seen).toEqual(['h2']);
  });

  it('off("a b", handler) removes the handler from both events', () => {
    const d = new Dispatcher();
    let count = 0;
    const h = (): number => count++;
    d.on('a b', h);
    d.off('a b', h);
    d.fire('a');
    d.fire('b');
    expect(count).toBe(0);
  });

  it('off(type) removes every handler of that event only', () => {
    const d = new Dispatcher();
    const seen: string[] = [];
    d.on('a', () => seen.push('a1'));
    d.on('a', () => seen.push('a2'));
    d.on('b', () => seen.push('b'));
    d.off('a');
    d.fire('a');
    d.fire('b');
    expect(seen).toEqual(['b']);
  });

  it('off() with no arguments removes every handler', () => {
    const d = new Dispatcher();
    let count = 0;
    d.on('a b c', () => count++);
    d.off();
    d.fire('a');
    d.fire('b');
    d.fire('c');
    expect(count).toBe(0);
  });

  it('off(type, handler, context) removes only the registration with that context', () => {
    const d = new Dispatcher();
    const seen: unknown[] = [];
    const h = function (this: unknown): void {
      seen.push(this);
    };
    const c1 = { c: 1 };
    const c2 = { c: 2 };
    d.on('a', h, c1);
    d.on('a', h, c2);
    d.off('a', h, c1);
    d.fire('a');
    expect(seen).toEqual([c2]);
  });

  it('off({a: fa}) removes the hash-map form', () => {
    const d = new Dispatcher();
    let count = 0;
    const fa = (): number => count++;
    d.on({ a: fa, b: fa });
    d.off({ a: fa });
    d.fire('a');
    d.fire('b');
    expect(count).toBe(1);
  });

  it('a once handler removed with off() before the event never runs', () => {
    const d = new Dispatcher();
    let count = 0;
    const h = (): number => count++;
    d.once('a', h);
    d.off('a', h);
    d.fire('a');
    expect(count).toBe(0);
  });

  it('addEventListener/removeEventListener (deprecated) behave like on/off', () => {
    const d = new Dispatcher();
    let count = 0;
    const h = (): number => count++;
    d.addEventListener('a', h);
    d.fire('a');
    d.removeEventListener('a', h);
    d.fire('a');
    expect(count).toBe(1);
  });

  it('throws TypeError for a handler that is not a function', () => {
    const d = new Dispatcher();
    expect(() => d.on('a', 'nope' as never)).toThrow(TypeError);
    expect(() => d.addEventListener('a', 42 as never)).toThrow(TypeError);
    expect(() => d.removeEventListener('a', null as never)).toThrow(TypeError);
    expect(() => d.on('', () => {})).toThrow(TypeError);
    expect(() => d.on({ a: 1 } as never)).toThrow(TypeError);
  });

  it('a throwing handler is logged; the other handlers still run and later dispatches work', () => {
    const d = new Dispatcher();
    const errors: unknown[] = [];
    setLogger({ error: (o) => void errors.push(o), warn: () => {}, info: () => {}, debug: () => {} });
    const seen: string[] = [];
    d.on('a', () => {
      throw new Error('boom');
    });
    d.on('a', () => seen.push('second'));
    d.fire('a');
    d.fire('a');
    expect(seen).toEqual(['second', 'second']);
    expect(errors).toHaveLength(2);
  });

  it('handlers added during a dispatch do not run for that dispatch', () => {
    const d = new Dispatcher();
    const seen: string[] = [];
    d.on('a', () => {
      seen.push('outer');
      d.on('a', () => seen.push('inner'));
    });
    d.fire('a');
    expect(seen).toEqual(['outer']);
  });

  it('preventDefault() only takes effect on a cancelable event', () => {
    const plain = new ConveneEvent('x');
    plain.preventDefault();
    expect(plain.isDefaultPrevented()).toBe(false);
    const cancelable = new ConveneEvent('x', true);
    cancelable.preventDefault();
    expect(cancelable.isDefaultPrevented()).toBe(true);
  });
});
