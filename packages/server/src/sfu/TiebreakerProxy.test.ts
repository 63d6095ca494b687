/**
 * The TiebreakerProxy against the real SFU port (libjuice inside node-datachannel) on 127.0.0.1: a raw UDP
 * socket sends the check Chromium's TURN/TCP port sends (ICE-CONTROLLING with tiebreaker 0), and a
 * libdatachannel subscriber given only the proxy's candidate carries media through it.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { MediaWorker } from './MediaWorker.js';
import { isStun, Stun, verifyIntegrity } from './stun.js';
import { TestPublisher, TestSubscriber, until } from './test-helpers/clients.js';
import { bindingRequest, fingerprintOk } from './test-helpers/stunMessages.js';

let cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup.splice(0).reverse()) c();
});

const attrOf = (sdp: string, name: string): string => new RegExp(`^a=${name}:(\\S+)`, 'm').exec(sdp)![1]!;

/** A worker on 127.0.0.1, and the ICE credentials of one publish transport (the offer is never connected). */
async function sfuWithTransport(): Promise<{ worker: MediaWorker; answer: string; username: string; key: string }> {
  const worker = await MediaWorker.create({ listenIp: '127.0.0.1', transport: 'libdatachannel', port: 0, tiebreakerProxyPort: 0 });
  cleanup.push(() => worker.close());
  const pub = new TestPublisher();
  cleanup.push(() => pub.pc.close());
  const offer = await pub.offer();
  const { answer } = await worker.createRouter().createWebRtcTransport().publish(offer);
  return { worker, answer, username: `${attrOf(answer, 'ice-ufrag')}:${attrOf(offer, 'ice-ufrag')}`, key: attrOf(answer, 'ice-pwd') };
}

async function udpClient(): Promise<{ socket: Socket; port: number; ask: (msg: Buffer, port: number, waitMs?: number) => Promise<Buffer | null> }> {
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  cleanup.push(() => socket.close());
  const ask = (msg: Buffer, port: number, waitMs = 1500): Promise<Buffer | null> =>
    new Promise((resolve) => {
      const t = setTimeout(() => {
        socket.off('message', on);
        resolve(null);
      }, waitMs);
      const on = (m: Buffer): void => {
        if (!isStun(m) || m.readUInt16BE(0) === Stun.BINDING_REQUEST) return; // the SFU's own checks toward us
        clearTimeout(t);
        socket.off('message', on);
        resolve(m);
      };
      socket.on('message', on);
      socket.send(msg, port, '127.0.0.1');
    });
  return { socket, port: socket.address().port, ask };
}

describe('TiebreakerProxy (real libjuice on the SFU port)', () => {
  it('the SFU port itself answers a check with ICE-CONTROLLING 0 with 400 (the libjuice bug the proxy exists for)', async () => {
    const { worker, username, key } = await sfuWithTransport();
    const { ask } = await udpClient();
    const res = await ask(bindingRequest({ username, key, tiebreaker: 0n }), worker.port);
    expect(res?.readUInt16BE(0)).toBe(0x0111); // Binding Error Response
    // The same check with a non-zero tiebreaker succeeds: only the zero value is refused.
    const ok = await ask(bindingRequest({ username, key, tiebreaker: 99n }), worker.port);
    expect(ok?.readUInt16BE(0)).toBe(Stun.BINDING_SUCCESS);
  }, 15_000);

  it('every answer offers the proxy port as a host candidate ranked below the SFU port', async () => {
    const { worker, answer } = await sfuWithTransport();
    const cands = answer.split('\r\n').filter((l) => l.startsWith('a=candidate:'));
    const direct = cands.find((l) => l.split(' ')[5] === String(worker.port))!;
    const proxied = cands.find((l) => l.split(' ')[5] === String(worker.tiebreakerProxyPort))!;
    expect(proxied).toMatch(/ 127\.0\.0\.1 \d+ typ host$/);
    expect(Number(proxied.split(' ')[3])).toBeLessThan(Number(direct.split(' ')[3]));
  }, 15_000);

  it('through the proxy the same check succeeds, and the response maps the sender’s own address', async () => {
    const { worker, username, key } = await sfuWithTransport();
    const { ask, port } = await udpClient();
    const res = await ask(bindingRequest({ username, key, tiebreaker: 0n }), worker.tiebreakerProxyPort!);
    expect(res?.readUInt16BE(0)).toBe(Stun.BINDING_SUCCESS);
    expect(verifyIntegrity(res!, key)).toBe(true);
    expect(fingerprintOk(res!)).toBe(true);
    const x = res!.indexOf(Buffer.from([0x00, 0x20, 0x00, 0x08])); // XOR-MAPPED-ADDRESS, IPv4
    expect(res!.readUInt16BE(x + 6) ^ 0x2112).toBe(port);
    expect((res!.readUInt32BE(x + 8) ^ 0x2112a442) >>> 0).toBe(0x7f000001);
  }, 15_000);

  it('a check the transport’s password did not sign gets no answer and opens nothing', async () => {
    const { worker, username } = await sfuWithTransport();
    const { ask } = await udpClient();
    const res = await ask(bindingRequest({ username, key: 'not the password', tiebreaker: 0n }), worker.tiebreakerProxyPort!, 800);
    expect(res).toBeNull();
    const unknown = await ask(bindingRequest({ username: 'nobody:x', key: 'k', tiebreaker: 0n }), worker.tiebreakerProxyPort!, 800);
    expect(unknown).toBeNull();
  }, 15_000);

  it('a subscriber given only the proxy candidate connects through it and receives media', async () => {
    const worker = await MediaWorker.create({ listenIp: '127.0.0.1', transport: 'libdatachannel', port: 0, tiebreakerProxyPort: 0 });
    cleanup.push(() => worker.close());
    const router = worker.createRouter();
    const pub = new TestPublisher();
    cleanup.push(() => pub.close());
    const { answer, producers } = await router.createWebRtcTransport().publish(await pub.offer());
    await pub.connect(answer);
    pub.start();
    const sub = new TestSubscriber();
    cleanup.push(() => sub.close());
    const offer = await sub.offer('video');
    const result = await router.createWebRtcTransport().subscribe(offer, [{ mid: 'v0', producer: producers[0]! }]);
    const onlyProxy = result.answer
      .split('\r\n')
      .filter((l) => !l.startsWith('a=candidate:') || l.split(' ')[5] === String(worker.tiebreakerProxyPort))
      .join('\r\n');
    expect(onlyProxy).not.toContain(` ${worker.port} typ host`);
    await sub.connect(onlyProxy);
    await until(() => sub.packets.length >= 30, 5000, '30 media packets through the proxy');
    expect(sub.pc.getSelectedCandidatePair()?.remote.port).toBe(worker.tiebreakerProxyPort);
  }, 20_000);

  it('a fixed media port gets the proxy one above it by default; worker.close() frees both', async () => {
    const free = await new Promise<number>((resolve) => {
      const s = createSocket('udp4');
      s.bind(0, '127.0.0.1', () => {
        const { port } = s.address();
        s.close(() => resolve(port < 65535 ? port : port - 1));
      });
    });
    const w = await MediaWorker.create({ listenIp: '127.0.0.1', transport: 'libdatachannel', port: free });
    expect(w.tiebreakerProxyPort).toBe(free + 1);
    w.close();
    const probe = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.bind(free + 1, '127.0.0.1', resolve);
    });
    probe.close();
  }, 15_000);

  it('without a fixed media port (port 0) or with tiebreakerProxyPort: null there is no proxy and no extra candidate', async () => {
    const w1 = await MediaWorker.create({ listenIp: '127.0.0.1', transport: 'libdatachannel', port: 0 });
    cleanup.push(() => w1.close());
    expect(w1.tiebreakerProxyPort).toBeNull();
    const w2 = await MediaWorker.create({ listenIp: '127.0.0.1', transport: 'libdatachannel', port: 0, tiebreakerProxyPort: null });
    cleanup.push(() => w2.close());
    expect(w2.tiebreakerProxyPort).toBeNull();
    const pub = new TestPublisher();
    cleanup.push(() => pub.pc.close());
    const { answer } = await w1.createRouter().createWebRtcTransport().publish(await pub.offer());
    expect(answer.split('\r\n').filter((l) => l.startsWith('a=candidate:')).every((l) => l.split(' ')[5] === String(w1.port))).toBe(true);
  }, 15_000);
});
