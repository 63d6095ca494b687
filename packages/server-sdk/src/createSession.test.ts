import { startServer } from '@convene/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConveneApiError, createSession, createToken } from './index.js';
import { RawConnection } from './test-helpers/RawConnection.js';

const apiKey = 'sdk_cs_key';
const apiSecret = 'sdk_cs_secret_0123456789';
let server: Awaited<ReturnType<typeof startServer>>;

beforeAll(async () => {
  server = await startServer({ port: 0, apiKey, apiSecret, logLevel: 'silent', media: false });
});
afterAll(async () => {
  await server?.close();
});

describe('createSession()', () => {
  it('resolves with a generated sessionId that clients can join (routed by default)', async () => {
    const { sessionId, mediaMode } = await createSession({ serverUrl: server.url, apiKey, apiSecret });
    expect(mediaMode).toBe('routed');
    const token = await createToken({ apiKey, apiSecret, sessionId });
    const c = await RawConnection.join(server.url, sessionId, token);
    try {
      expect(c.joined.mediaMode).toBe('routed');
    } finally {
      await c.close();
    }
  });

  it("creates a relayed session: joiners get mediaMode 'relayed'", async () => {
    const { sessionId } = await createSession({ serverUrl: server.url, apiKey, apiSecret, mediaMode: 'relayed' });
    const token = await createToken({ apiKey, apiSecret, sessionId });
    const c = await RawConnection.join(server.url, sessionId, token);
    try {
      expect(c.joined.mediaMode).toBe('relayed');
    } finally {
      await c.close();
    }
  });

  it('throws a TypeError for an invalid mediaMode, before any request', async () => {
    await expect(createSession({ serverUrl: server.url, apiKey, apiSecret, mediaMode: 'p2p' as never })).rejects.toThrow(TypeError);
  });

  it('rejects with ConveneApiError 401 for a wrong secret', async () => {
    const err = await createSession({ serverUrl: server.url, apiKey, apiSecret: 'wrong-secret-0123456789' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConveneApiError);
    expect((err as ConveneApiError).status).toBe(401);
  });
});
