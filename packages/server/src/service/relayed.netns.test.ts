import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasCoturn, startCoturn, type Coturn } from '../test-helpers/coturn.js';
import { createTopology, JsonLines, netnsUnavailable, type Topology } from '../test-helpers/netns.js';

/*
 * Relayed (peer-to-peer) sessions on real topologies (test-helpers/netns.ts): the server behind its 1:1
 * NAT relays signaling only; bots on the client SDK (Session, NodePublisher, NodeSubscriber) in two
 * namespaces connect directly, or through coturn when one of them may not send UDP except to TURN.
 */

const root = fileURLToPath(new URL('../../../..', import.meta.url));
const bin = fileURLToPath(new URL('../../bin/convene.js', import.meta.url));
const sdkBot = fileURLToPath(new URL('../test-helpers/netnsSdkBot.mjs', import.meta.url));
const KEY = 'relay_key';
const SECRET = 'relay_secret_0123456789';
const TURN_SECRET = 'relay-turn-secret';
const url = 'http://10.99.1.1:7880';

const skipReason = netnsUnavailable() ?? (hasCoturn() ? null : 'coturn is not installed (apt-get install coturn)');
if (skipReason) console.warn(`[relayed.netns] skipped: ${skipReason}`);

type Line = Record<string, unknown>;
const isStats = (l: Line): boolean => l.event === 'stats';
const hostOf = (candidate: string): string => `${candidate.split(' ')[4]}:${candidate.split(' ')[5]}`;
const typeOf = (candidate: string): string => candidate.split(' ')[7] ?? '';

describe.skipIf(skipReason !== null)('relayed sessions on real network topologies (network namespaces, NAT, coturn)', () => {
  let topo: Topology;
  let turn: Coturn;

  beforeAll(async () => {
    execFileSync('npx', ['tsc', '-b', 'packages/server', 'packages/client'], { cwd: root, stdio: 'pipe', timeout: 180_000 });
    if (!existsSync(fileURLToPath(new URL('../../../client/dist/index.js', import.meta.url)))) throw new Error('build @convene/client first (npm run build)');
    topo = createTopology(`${process.pid % 10_000}r`);
    turn = await startCoturn({ ip: '10.99.1.3', port: 3478, secret: TURN_SECRET, netns: topo.ns.turn, minPort: 49_152, maxPort: 49_252 });
    const server = topo.spawn(topo.ns.srv, process.execPath, [
      bin, 'start', '--port', '7880', '--rtc-port', '7882', '--announced-ip', '10.99.1.1', '--api-key', KEY, '--api-secret', SECRET, '--log-level', 'warn',
      '--turn-url', 'turn:10.99.1.3:3478?transport=udp', '--turn-secret', TURN_SECRET,
    ]);
    let out = '';
    let err = '';
    server.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    server.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const deadline = Date.now() + 20_000;
    while (!out.includes('API secret') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (!out.includes('API secret')) throw new Error(`server did not start: ${err}`);
  }, 240_000);

  afterAll(async () => {
    await turn?.stop();
    await topo?.destroy();
  }, 30_000);

  const startBot = (ns: string, args: string[]): JsonLines =>
    new JsonLines(topo.spawn(ns, process.execPath, [sdkBot, '--url', url, '--key', KEY, '--secret', SECRET, '--relayed', ...args], { NODE_PATH: '' }));

  /** Stats lines of the subscriber until frames rose by `n` over two lines at least 1 s apart. */
  async function framesRising(sub: JsonLines): Promise<Line> {
    const first = await sub.next((l) => isStats(l) && (l.framesReceived as number) > 0, 20_000, 'first frames');
    const at = sub.lines.indexOf(first);
    return sub.next((l) => isStats(l) && sub.lines.indexOf(l) > at + 2 && (l.framesReceived as number) > (first.framesReceived as number) + 10, 10_000, 'frames rising');
  }

  it('a publisher behind a masquerading NAT and a subscriber on the public network connect peer to peer; the SFU forwards nothing', async () => {
    const pub = startBot(topo.ns.cli, ['--session', 'p2p nat', '--role', 'pub', '--seconds', '40']);
    await pub.next((l) => l.event === 'published', 20_000, 'published');
    const sub = startBot(topo.ns.turn, ['--session', 'p2p nat', '--role', 'sub', '--seconds', '40']);
    const later = await framesRising(sub);
    const pair = later.pair as { local: string; remote: string };
    // The subscriber (10.99.1.3) reaches the publisher at the NAT's public address (10.99.1.2), not the server (10.99.1.1).
    expect(hostOf(pair.remote).startsWith('10.99.1.2:'), JSON.stringify(pair)).toBe(true);
    expect(typeOf(pair.local)).toBe('host');
    expect(later.forwarded).toBe(0);
    pub.child.kill('SIGTERM');
    sub.child.kill('SIGTERM');
  }, 90_000);

  it("with UDP blocked except to TURN, setIceConfig({ transportPolicy: 'relay' }) connects peer to peer through coturn", async () => {
    const relayOnly = JSON.stringify({ transportPolicy: 'relay' });
    const pub = startBot(topo.ns.blk, ['--session', 'p2p turn', '--role', 'pub', '--ice-config', relayOnly, '--seconds', '50']);
    await pub.next((l) => l.event === 'published', 20_000, 'published');
    const sub = startBot(topo.ns.cli, ['--session', 'p2p turn', '--role', 'sub', '--seconds', '50']);
    const later = await framesRising(sub);
    const pair = later.pair as { local: string; remote: string };
    // The publisher's side of the path is its relay on coturn (10.99.1.3), allocated with the server's TURN REST credentials.
    expect(hostOf(pair.remote).startsWith('10.99.1.3:'), JSON.stringify(pair)).toBe(true);
    const pubPair = (await pub.next((l) => isStats(l) && l.pair !== null, 10_000, 'publisher pair')).pair as { local: string };
    expect(typeOf(pubPair.local)).toBe('relay');
    expect(later.forwarded).toBe(0);
    pub.child.kill('SIGTERM');
    sub.child.kill('SIGTERM');
  }, 90_000);

  it('control: the same blocked publisher without TURN never connects, and the subscriber fails with a clear error in bounded time', async () => {
    const pub = startBot(topo.ns.blk, ['--session', 'p2p blocked', '--role', 'pub', '--ice-config', JSON.stringify({ includeServers: 'custom', customServers: [] }), '--seconds', '50']);
    await pub.next((l) => l.event === 'published', 20_000, 'published');
    const sub = startBot(topo.ns.cli, ['--session', 'p2p blocked', '--role', 'sub', '--ice-config', JSON.stringify({ includeServers: 'custom', customServers: [] }), '--seconds', '50']);
    const error = await sub.next((l) => l.event === 'error', 40_000, 'subscribe failure');
    expect(error.message).toMatch(/OT_CONNECT_FAILED|did not connect|failed/);
    expect(sub.lines.some((l) => isStats(l) && (l.framesReceived as number) > 0)).toBe(false);
    pub.child.kill('SIGTERM');
  }, 90_000);
});
