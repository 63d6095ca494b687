import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, hasCoturn, startCoturn, type Coturn } from '../test-helpers/coturn.js';
import { detectPublicIp } from './detectPublicIp.js';

describe('detectPublicIp', () => {
  it('does nothing without a STUN/TURN server over UDP', async () => {
    expect(await detectPublicIp(undefined)).toEqual({ kind: 'none', why: expect.any(String) });
    expect((await detectPublicIp([{ urls: 'turns:turn.example.com:5349', secret: 's' }])).kind).toBe('none');
  });

  it('reports failure (no hang) when the STUN server does not answer', async () => {
    const silent = createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
    try {
      const t0 = Date.now();
      const d = await detectPublicIp([{ urls: `stun:127.0.0.1:${silent.address().port}` }], 600);
      expect(d).toMatchObject({ kind: 'failed', via: `stun:127.0.0.1:${silent.address().port}` });
      expect(Date.now() - t0).toBeLessThan(3000);
    } finally {
      silent.close();
    }
  });

  describe.skipIf(!hasCoturn())('with a real coturn', () => {
    let turn: Coturn;
    let port = 0;
    beforeAll(async () => {
      port = await freePort('127.0.0.1');
      turn = await startCoturn({ ip: '127.0.0.1', port, secret: 'x', minPort: 49_450, maxPort: 49_460 });
    }, 20_000);
    afterAll(async () => {
      await turn?.stop();
    });

    it("says 'local' when the address the TURN server sees is one of this host's (not behind NAT)", async () => {
      expect(await detectPublicIp([{ urls: `turn:127.0.0.1:${port}?transport=udp`, secret: 'x' }])).toEqual({ kind: 'local', address: '127.0.0.1', via: `stun:127.0.0.1:${port}` });
    });
  });
});
