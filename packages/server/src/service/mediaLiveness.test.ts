/**
 * Media liveness through the real server (slow: ≈30 s, in its own file so it runs beside the others).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ConveneServer } from './startServer.js';
import { publish, subscribe, until, type PublishedBot, type SubscribedBot } from '../test-helpers/mediaBots.js';
import { cleanup, join, startTestServer, type TestClient } from '../test-helpers/wsClient.js';

let server: ConveneServer | undefined;
const clients: TestClient[] = [];
const bots: { pc: { close(): void } }[] = [];

afterEach(async () => {
  for (const b of bots.splice(0)) b.pc.close();
  await cleanup(server, clients);
  server = undefined;
});

async function start(extra: Parameters<typeof startTestServer>[0] = {}): Promise<ConveneServer> {
  server = await startTestServer(extra);
  return server;
}

async function member(session: string): Promise<TestClient> {
  const { c } = await join(server!, session);
  clients.push(c);
  return c;
}

async function pub(c: TestClient, opts: Parameters<typeof publish>[1] = {}): Promise<PublishedBot> {
  const b = await publish(c, opts);
  bots.push(b);
  return b;
}

async function sub(c: TestClient, streamId: string, opts: Parameters<typeof subscribe>[2] = {}): Promise<SubscribedBot> {
  const b = await subscribe(c, streamId, opts);
  bots.push(b);
  return b;
}

describe('media liveness', () => {
  it('a publisher whose peer connection goes away loses its stream with "networkDisconnected" once ICE consent expires (≈30 s)', async () => {
    await start({ heartbeatTimeoutMs: 60_000 }); // the raw test sockets do not ping
    const a = await member('pcclose');
    const b = await member('pcclose');
    const p = await pub(a, { audio: false });
    const s = await sub(b, p.streamId, { audio: false });
    await until(() => s.video!.stats().framesReceived >= 3, 10_000, 'video');
    // A graceful close (DTLS close_notify) is often noticed at once, but not reliably: the guaranteed path is
    // libjuice's ICE consent freshness, which fails the transport ≈30 s after the peer stops answering.
    p.pc.close();
    expect(await b.next('streamDestroyed', 45_000)).toMatchObject({ streamId: p.streamId, reason: 'networkDisconnected' });
    expect(s.video!.stats().framesReceived).toBeGreaterThan(0);
  }, 60_000);

});
