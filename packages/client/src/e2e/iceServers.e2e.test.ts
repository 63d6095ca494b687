import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium, startE2E, type E2E } from './test-helpers/e2e.js';

/*
 * The STUN/TURN servers a server is configured with reach every peer connection the SDK creates: the
 * page records the configuration of each RTCPeerConnection it builds (the real constructor is still
 * used), then publishes and subscribes.
 */
describe.skipIf(!hasChromium)('ICE servers from the server configuration', () => {
  let e2e: E2E;
  const TURN = 'turn:127.0.0.1:3479?transport=udp';

  beforeAll(async () => {
    e2e = await startE2E({
      server: { iceServers: [{ urls: TURN, secret: 'turn-shared-secret', ttlSeconds: 600 }], detectAnnouncedIp: false },
    });
  }, 60_000);

  afterAll(async () => {
    await e2e?.close();
  });

  it('publisher and subscriber peer connections use the server-provided TURN server with minted credentials', async () => {
    const page = await e2e.page();
    const token = await e2e.token('ice-config');
    const configs = await page.evaluate(async (tok) => {
      const w = window as unknown as { OT: any; RTCPeerConnection: typeof RTCPeerConnection; e2e: any };
      const seen: RTCConfiguration[] = [];
      const Native = w.RTCPeerConnection;
      w.RTCPeerConnection = class extends Native {
        constructor(config?: RTCConfiguration) {
          super(config);
          seen.push(config ?? {});
        }
      } as typeof RTCPeerConnection;
      const session = w.OT.initSession('e2e_key', 'ice-config');
      await new Promise<void>((resolve, reject) => session.connect(tok, (err: unknown) => (err ? reject(err) : resolve())));
      const publisher = w.OT.initPublisher('publisher', { insertMode: 'append' });
      await new Promise<void>((resolve, reject) => session.publish(publisher, (err: unknown) => (err ? reject(err) : resolve())));
      await new Promise<void>((resolve, reject) =>
        session.subscribe(publisher.stream, 'subscribers', { testNetwork: true, insertMode: 'append' }, (err: unknown) => (err ? reject(err) : resolve())),
      );
      session.disconnect();
      return seen.map((c) => JSON.parse(JSON.stringify(c.iceServers ?? [])) as { urls: string | string[]; username?: string; credential?: string }[]);
    }, token);
    expect(configs.length).toBeGreaterThanOrEqual(2);
    for (const servers of configs) {
      expect(servers).toHaveLength(1);
      const s = servers[0]!;
      expect([s.urls].flat()).toEqual([TURN]);
      // TURN REST API scheme: "<expiry>:<connectionId>" and a base64 HMAC-SHA1 credential.
      expect(s.username).toMatch(/^\d+:.+/);
      expect(s.credential).toMatch(/^[A-Za-z0-9+/]{27}=$/);
    }
  }, 60_000);
});
