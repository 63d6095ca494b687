import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { record, startHarness, until, type Harness } from '../test-helpers/harness.js';
import { defaultSocketFactory, type SocketFactory } from '../transport/socket.js';
import type { ConnectionEvent, Session } from '../index.js';

let h: Harness;

beforeAll(async () => {
  // Coalesce connection events from the first connection on, flushing every 100 ms.
  h = await startHarness({ coalesceConnectionEventsAt: 1, coalesceIntervalMs: 100 });
});
afterAll(async () => {
  await h.close();
});

/** A socket factory that records every text frame the server sends. */
function recordingFactory(frames: string[]): SocketFactory {
  return async (url) => {
    const s = await defaultSocketFactory(url);
    let handler: ((ev: { data: unknown }) => void) | null = null;
    Object.defineProperty(s, 'onmessage', {
      configurable: true,
      get: () => handler,
      set: (fn: ((ev: { data: unknown }) => void) | null) => {
        handler = fn;
      },
    });
    const raw = s as unknown as { addEventListener(t: string, fn: (ev: { data: unknown }) => void): void };
    raw.addEventListener('message', (ev) => {
      frames.push(String(ev.data));
      handler?.(ev);
    });
    return s;
  };
}

describe('coalesced connection events', () => {
  it('a server batch of several connections becomes one connectionCreated / connectionDestroyed event per connection', async () => {
    const sid = `coalesce-${Date.now()}`;
    const frames: string[] = [];
    const a = h.session(sid, { socketFactory: recordingFactory(frames) });
    await a.connect(await h.token(sid));
    const created = record<ConnectionEvent>(a, 'connectionCreated');
    const destroyed = record<ConnectionEvent>(a, 'connectionDestroyed');
    const others: Session[] = await Promise.all([1, 2, 3, 4].map(() => h.join(sid)));
    await until(() => created.length === 4, 5000, 'four connectionCreated');
    expect(created.map((e) => e.connection.connectionId).sort()).toEqual(others.map((s) => s.connection!.connectionId).sort());
    await Promise.all(others.map((s) => s.disconnect()));
    await until(() => destroyed.length === 4, 5000, 'four connectionDestroyed');
    expect(destroyed.every((e) => e.reason === 'clientDisconnected')).toBe(true);
    const batchSizes = (type: string): number[] =>
      frames
        .map((f) => JSON.parse(f) as { type: string; connections?: unknown[] })
        .filter((m) => m.type === type)
        .map((m) => m.connections?.length ?? 0);
    // The server did batch (otherwise this test proves nothing), and no connection was announced twice.
    expect(Math.max(...batchSizes('connectionCreated'))).toBeGreaterThan(1);
    expect(batchSizes('connectionCreated').reduce((x, y) => x + y, 0)).toBe(4);
    expect(Math.max(...batchSizes('connectionDestroyed'))).toBeGreaterThan(1);
    await a.disconnect();
  });
});
