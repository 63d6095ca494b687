import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConveneServer } from '../service/startServer.js';
import { cleanup, join, startTestServer, type TestClient } from '../test-helpers/wsClient.js';

describe('signals', () => {
  let server: ConveneServer;
  const clients: TestClient[] = [];
  beforeEach(async () => {
    server = await startTestServer();
  });
  afterEach(() => cleanup(server, clients));

  async function three(): Promise<[TestClient, TestClient, TestClient]> {
    const a = (await join(server, 'sig')).c;
    const b = (await join(server, 'sig')).c;
    const c = (await join(server, 'sig')).c;
    clients.push(a, b, c);
    return [a, b, c];
  }

  it('a signal without `to` reaches everyone, the sender included', async () => {
    const [a, b, c] = await three();
    const r = await a.request('signal', { signalType: 'chat', data: 'hi' });
    expect(r.type).toBe('ok');
    for (const x of [a, b, c]) {
      const s = await x.next('signal');
      expect(s).toMatchObject({ from: a.connectionId, signalType: 'chat', data: 'hi' });
    }
  });

  it('a signal with `to` reaches only that connection', async () => {
    const [a, b, c] = await three();
    expect((await a.request('signal', { to: b.connectionId, signalType: 'dm', data: 'x' })).type).toBe('ok');
    expect(await b.next('signal')).toMatchObject({ from: a.connectionId, signalType: 'dm', data: 'x' });
    await a.expectNone('signal');
    await c.expectNone('signal');
  });

  it('type and data default to empty strings', async () => {
    const [a, b] = await three();
    await a.request('signal', { to: b.connectionId });
    expect(await b.next('signal')).toMatchObject({ signalType: '', data: '' });
  });

  it('signal() fails with 400 when the type has characters outside A-Za-z0-9-_~', async () => {
    const [a, b] = await three();
    const r = await a.request('signal', { signalType: 'bad type!', data: 'x' });
    expect(r).toMatchObject({ type: 'error', error: { code: 400, name: 'OT_INVALID_PARAMETER' } });
    await b.expectNone('signal');
  });

  it('signal() fails with 413 when the type exceeds 128 characters', async () => {
    const [a] = await three();
    const r = await a.request('signal', { signalType: 'x'.repeat(129) });
    expect(r).toMatchObject({ type: 'error', error: { code: 413 } });
  });

  it('signal() fails with 413 when data exceeds 8 kB of UTF-8', async () => {
    const [a, b] = await three();
    const ok = await a.request('signal', { to: b.connectionId, data: 'é'.repeat(4096) });
    expect(ok.type).toBe('ok');
    const r = await a.request('signal', { data: 'é'.repeat(4097) });
    expect(r).toMatchObject({ type: 'error', error: { code: 413, name: 'OT_MESSAGE_TOO_LARGE' } });
  });

  it('signal() fails with 404 when `to` is not connected', async () => {
    const [a] = await three();
    const r = await a.request('signal', { to: 'no-such-connection', data: 'x' });
    expect(r).toMatchObject({ type: 'error', error: { code: 404, name: 'OT_NOT_FOUND' } });
  });

  it('signal() fails with 404 when `to` has left', async () => {
    const [a, b] = await three();
    const gone = b.connectionId;
    await b.request('leave');
    await a.next('connectionDestroyed');
    const r = await a.request('signal', { to: gone, data: 'x' });
    expect(r).toMatchObject({ type: 'error', error: { code: 404 } });
  });

  it('signals from one sender arrive in the order sent', async () => {
    const [a, b] = await three();
    const n = 100;
    for (let i = 0; i < n; i++) a.send({ type: 'signal', id: 100 + i, signalType: 'seq', data: String(i) });
    const got: string[] = [];
    for (let i = 0; i < n; i++) got.push((await b.next('signal')).data as string);
    expect(got).toEqual(Array.from({ length: n }, (_, i) => String(i)));
  });
});
