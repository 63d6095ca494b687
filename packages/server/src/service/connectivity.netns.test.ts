import { execFileSync } from 'node:child_process';
import { signHs256 } from './jwt.js';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasCoturn, startCoturn, type Coturn } from '../test-helpers/coturn.js';
import { createTopology, JsonLines, netnsUnavailable, type Topology } from '../test-helpers/netns.js';

/*
 * Connectivity on real topologies (test-helpers/netns.ts): the server behind a 1:1 NAT (gw), coturn on its
 * own public host, clients behind a masquerading NAT: one on an open network, one on a network that drops
 * UDP except to the TURN port, one with no UDP at all. Server, coturn, bots and the doctor are separate processes inside their namespaces.
 */

const root = fileURLToPath(new URL('../../../..', import.meta.url));
const bin = fileURLToPath(new URL('../../bin/convene.js', import.meta.url));
const bot = fileURLToPath(new URL('../test-helpers/netnsBot.mjs', import.meta.url));
const pageRunner = fileURLToPath(new URL('../test-helpers/netnsPage.mjs', import.meta.url));
const relayPage = fileURLToPath(new URL('../test-helpers/netnsRelayPage.mjs', import.meta.url));
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const KEY = 'netns_key';
const SECRET = 'netns_secret_0123456789';
const TURN_SECRET = 'netns-turn-secret';

const skipReason = netnsUnavailable() ?? (hasCoturn() ? null : 'coturn is not installed (apt-get install coturn)');
if (skipReason) console.warn(`[connectivity.netns] skipped: ${skipReason}`);

type Line = Record<string, unknown>;
interface PageResult {
  done: boolean;
  ok: boolean;
  results: { id: string; status: string; detail: string; fix?: string; required: boolean }[];
}
const isStats = (l: Line): boolean => l.event === 'stats';
const pairOf = (l: Line): { local: string; remote: string } => l.pair as { local: string; remote: string };

describe.skipIf(skipReason !== null)('connectivity on real network topologies (network namespaces, nftables NAT, coturn)', () => {
  let topo: Topology;
  let turn: Coturn;
  let serverOut: JsonLines;
  const url = 'http://10.99.1.1:7880';

  beforeAll(async () => {
    execFileSync('npx', ['tsc', '-b', 'packages/server'], { cwd: root, stdio: 'pipe', timeout: 180_000 });
    if (!existsSync(fileURLToPath(new URL('../../../client/dist/media/node/index.js', import.meta.url)))) throw new Error('build @convene/client first (npm run build)');
    topo = createTopology();
    turn = await startCoturn({ ip: '10.99.1.3', port: 3478, secret: TURN_SECRET, netns: topo.ns.turn, minPort: 49_152, maxPort: 49_252 });
    const server = topo.spawn(topo.ns.srv, process.execPath, [
      bin, 'start', '--port', '7880', '--rtc-port', '7882', '--announced-ip', '10.99.1.1', '--api-key', KEY, '--api-secret', SECRET, '--log-level', 'warn',
      '--turn-url', 'turn:10.99.1.3:3478?transport=udp,turn:10.99.1.3:3478?transport=tcp', '--turn-secret', TURN_SECRET,
    ]);
    serverOut = new JsonLines(server);
    let out = '';
    server.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 20_000;
    while (!out.includes('API secret') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (!out.includes('API secret')) throw new Error(`server did not start: ${serverOut.stderr}`);
  }, 240_000);

  afterAll(async () => {
    await turn?.stop();
    await topo?.destroy();
  }, 30_000);

  const startBot = (ns: string, args: string[]): JsonLines =>
    new JsonLines(topo.spawn(ns, process.execPath, [bot, '--url', url, '--key', KEY, '--secret', SECRET, ...args], { NODE_PATH: '' }));

  /** Two stats lines 1 s apart with more bytes received in the second. */
  async function bytesRising(b: JsonLines): Promise<[number, number]> {
    const first = await b.next((l) => isStats(l) && (l.bytesReceived as number) > 0, 15_000, 'first media bytes');
    const n = b.lines.length;
    const later = await b.next((l) => isStats(l) && b.lines.indexOf(l) > n + 1, 5_000, 'later stats');
    return [first.bytesReceived as number, later.bytesReceived as number];
  }

  it('a routed call between two clients behind NAT connects through the server’s 1:1 NAT via the announced address', async () => {
    const pub = startBot(topo.ns.cli, ['--session', 'nat call', '--role', 'pub', '--no-ice-servers', '--seconds', '40']);
    const sub = startBot(topo.ns.cli, ['--session', 'nat call', '--role', 'sub', '--no-ice-servers', '--seconds', '40']);
    const answer = await sub.next((l) => l.event === 'answer', 15_000, 'subscribe answer');
    const candidates = answer.candidates as string[];
    expect(candidates.some((c) => / 10\.99\.1\.1 7882 typ host/.test(c))).toBe(true);
    expect(candidates.some((c) => c.includes('10.99.0.2'))).toBe(false);
    await pub.next((l) => l.event === 'connected', 15_000, 'publisher connected');
    const connected = await sub.next((l) => l.event === 'connected', 15_000, 'subscriber connected');
    expect(pairOf(connected).remote).toContain('10.99.1.1 7882');
    const [a, b] = await bytesRising(sub);
    expect(b).toBeGreaterThan(a);
    pub.child.kill('SIGTERM');
    sub.child.kill('SIGTERM');
  }, 60_000);

  it("with UDP blocked except to the TURN port, transportPolicy 'relay' connects through coturn and media flows", async () => {
    const pub = startBot(topo.ns.cli, ['--session', 'relay call', '--role', 'pub', '--no-ice-servers', '--seconds', '40']);
    const sub = startBot(topo.ns.blk, ['--session', 'relay call', '--role', 'sub', '--policy', 'relay', '--seconds', '40']);
    const joined = await sub.next((l) => l.event === 'joined', 10_000, 'joined');
    expect((joined.iceServers as { urls: string[] }[])[0]?.urls).toContain('turn:10.99.1.3:3478?transport=udp');
    const connected = await sub.next((l) => l.event === 'connected', 20_000, 'subscriber connected through TURN');
    expect(pairOf(connected).local).toMatch(/ typ relay/);
    const [a, b] = await bytesRising(sub);
    expect(b).toBeGreaterThan(a);
    pub.child.kill('SIGTERM');
    sub.child.kill('SIGTERM');
  }, 60_000);

  it('control: on the UDP-blocked network without TURN the same subscriber never connects', async () => {
    const pub = startBot(topo.ns.cli, ['--session', 'blocked call', '--role', 'pub', '--no-ice-servers', '--seconds', '30']);
    const sub = startBot(topo.ns.blk, ['--session', 'blocked call', '--role', 'sub', '--no-ice-servers', '--seconds', '30']);
    await sub.next((l) => l.event === 'answer', 15_000, 'subscribe answer');
    await new Promise((r) => setTimeout(r, 8000));
    expect(sub.lines.some((l) => l.event === 'connected')).toBe(false);
    pub.child.kill('SIGTERM');
    sub.child.kill('SIGTERM');
  }, 40_000);

  const doctor = (ns: string, target: string): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    topo.exec(ns, process.execPath, [bin, 'doctor', '--url', target, '--api-key', KEY, '--api-secret', SECRET, '--timeout', '8000'], 90_000);

  it('convene doctor behind the NAT passes every check, media over UDP included', async () => {
    const r = await doctor(topo.ns.cli, url);
    expect(r.stdout).toMatch(/^ok {4}WebSocket signaling/m);
    expect(r.stdout).toMatch(/^ok {4}TURN UDP 10\.99\.1\.3:3478 +allocated relay 10\.99\.1\.3:\d+/m);
    expect(r.stdout).toMatch(/^ok {4}TURN TCP 10\.99\.1\.3:3478/m);
    expect(r.stdout).toMatch(/^ok {4}Media over UDP .* packets came back through the SFU/m);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  }, 100_000);

  it('convene doctor on the UDP-blocked network reports the blocked UDP media path with a fix, and media through TURN', async () => {
    const r = await doctor(topo.ns.blk, url);
    expect(r.stdout).toMatch(/^ok {4}TURN UDP 10\.99\.1\.3:3478/m);
    expect(r.stdout).toMatch(/^ok {4}TURN TCP 10\.99\.1\.3:3478/m);
    expect(r.stdout).toMatch(/^warn {2}Media over UDP .*\n {6}→ UDP from here to 10\.99\.1\.1:7882 does not get through\..*Calls still connect here through TURN/m);
    expect(r.stdout).toMatch(/^ok {4}Media through TURN\/UDP +relay-only ICE\+DTLS .*typ relay/m);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  }, 100_000);

  /** Run /connection-test in headless Chromium inside a namespace. */
  async function connectionTestPage(ns: string, session: string): Promise<{ result: PageResult; all: string }> {
    const now = Math.floor(Date.now() / 1000);
    const token = signHs256({ iss: KEY, tpc: session, role: 'publisher', iat: now, exp: now + 600 }, SECRET);
    const r = await topo.exec(ns, process.execPath, [pageRunner, `${url}/connection-test?timeout=8000&session=${encodeURIComponent(session)}&token=${token}`], 110_000);
    const result = JSON.parse(r.stdout.trim().split('\n').pop() || '{}') as PageResult;
    return { result, all: r.stdout + r.stderr };
  }
  const check = (r: PageResult, id: string) => r.results?.find((x) => x.id === id);

  it.skipIf(!existsSync(CHROMIUM))(
    '/connection-test in Chromium on the UDP-blocked network: the UDP media path reported blocked with a fix, relay-only media through coturn',
    async () => {
      const { result, all } = await connectionTestPage(topo.ns.blk, 'page blk');
      expect(check(result, 'websocket')?.status, all).toBe('ok');
      expect(check(result, 'join')?.status, all).toBe('ok');
      expect(check(result, 'ice:turn:10.99.1.3:3478?transport=udp')?.status, all).toBe('ok');
      expect(check(result, 'ice:turn:10.99.1.3:3478?transport=tcp')?.status, all).toBe('ok');
      expect(check(result, 'media-udp'), all).toMatchObject({ status: 'warn', fix: expect.stringContaining('Calls still connect through TURN') });
      // Chromium enforces relay-only: the selected local candidate is relayed (type relay, or prflx learnt through the relay).
      expect(check(result, 'media-relay'), all).toMatchObject({ status: 'ok', detail: expect.stringMatching(/\((relay|prflx) udp \S*:\d+ → 10\.99\.1\.1:7882\); \d+ packets came back/) });
      expect(result.ok).toBe(true);
    },
    120_000,
  );

  it.skipIf(!existsSync(CHROMIUM))(
    '/connection-test in Chromium on a network without UDP: TURN over UDP reported blocked with a fix, the UDP media path a warning, media relayed over TURN/TCP',
    async () => {
      const { result, all } = await connectionTestPage(topo.ns.tcp, 'page tcp');
      expect(check(result, 'websocket')?.status, all).toBe('ok');
      expect(check(result, 'ice:turn:10.99.1.3:3478?transport=udp'), all).toMatchObject({ status: 'fail', fix: expect.stringContaining('UDP to 10.99.1.3:3478 is blocked') });
      expect(check(result, 'ice:turn:10.99.1.3:3478?transport=tcp')?.status, all).toBe('ok');
      expect(check(result, 'media-udp'), all).toMatchObject({ status: 'warn', fix: expect.stringContaining("UDP from here to the server's media port does not get through. Calls still connect through TURN") });
      // Only TURN/TCP gets out of this network. Chromium's TURN/TCP checks carry a zero tiebreaker, which the native
      // ICE-lite agent accepts on the media port itself (libdatachannel needed the tiebreaker proxy on rtc-port + 1).
      expect(check(result, 'media-relay'), all).toMatchObject({ status: 'ok', detail: expect.stringMatching(/\(relay tcp 10\.99\.1\.3:\d+ → 10\.99\.1\.1:7882\); \d+ packets came back/) });
      // The page still fails overall, for the TURN/UDP server it cannot reach from here.
      expect(result.results.filter((x) => x.required && x.status === 'fail').map((x) => x.id)).toEqual(['ice:turn:10.99.1.3:3478?transport=udp']);
      expect(result.ok).toBe(false);
    },
    120_000,
  );

  it.skipIf(!existsSync(CHROMIUM))(
    'Chromium without any UDP publishes and subscribes relay-only through turn:…?transport=tcp and video flows both ways through the SFU',
    async () => {
      const now = Math.floor(Date.now() / 1000);
      const session = 'tcp relay media';
      const token = signHs256({ iss: KEY, tpc: session, role: 'publisher', iat: now, exp: now + 600 }, SECRET);
      const r = await topo.exec(topo.ns.tcp, process.execPath, [relayPage, url, session, token, 'transport=tcp'], 90_000);
      const all = r.stdout + r.stderr;
      const out = JSON.parse(r.stdout.trim().split('\n').pop() || '{}') as {
        iceServers: string[];
        pubPair: { localType: string; relayProtocol: string | null; remote: string } | null;
        subPair: { localType: string; relayProtocol: string | null; remote: string } | null;
        first: { bytesSent: number; bytesReceived: number; framesDecoded: number };
        second: { bytesSent: number; bytesReceived: number; framesDecoded: number };
      };
      expect(out.iceServers, all).toEqual(['turn:10.99.1.3:3478?transport=tcp']);
      // Both peer connections: a relay candidate allocated over TCP, paired with the SFU's media port (zero tiebreaker accepted).
      for (const pair of [out.pubPair, out.subPair]) expect(pair, all).toMatchObject({ localType: 'relay', relayProtocol: 'tcp', remote: '10.99.1.1:7882' });
      expect(out.first.framesDecoded, all).toBeGreaterThan(0);
      expect(out.second.bytesSent).toBeGreaterThan(out.first.bytesSent);
      expect(out.second.bytesReceived).toBeGreaterThan(out.first.bytesReceived);
      expect(out.second.framesDecoded).toBeGreaterThan(out.first.framesDecoded);
    },
    120_000,
  );

  it('a server behind 1:1 NAT without --announced-ip but with a TURN server detects its public address and a call through NAT connects', async () => {
    const server = topo.spawn(topo.ns.srv, process.execPath, [
      bin, 'start', '--port', '9880', '--rtc-port', '9882', '--api-key', KEY, '--api-secret', SECRET, '--log-level', 'warn',
      '--turn-url', 'turn:10.99.1.3:3478?transport=udp', '--turn-secret', TURN_SECRET,
    ]);
    let out = '';
    server.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 20_000;
    while (!out.includes('API secret') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    try {
      expect(out).toContain('Media: UDP 9882 (announced as 10.99.1.1)');
      const natBot = (role: string): JsonLines =>
        new JsonLines(topo.spawn(topo.ns.cli, process.execPath, [bot, '--url', 'http://10.99.1.1:9880', '--key', KEY, '--secret', SECRET, '--session', 'auto', '--role', role, '--no-ice-servers', '--seconds', '30']));
      const pub = natBot('pub');
      const sub = natBot('sub');
      const answer = await sub.next((l) => l.event === 'answer', 15_000, 'subscribe answer');
      expect((answer.candidates as string[]).some((c) => / 10\.99\.1\.1 9882 typ host/.test(c))).toBe(true);
      await sub.next((l) => l.event === 'connected', 15_000, 'subscriber connected');
      const [a, b] = await bytesRising(sub);
      expect(b).toBeGreaterThan(a);
      pub.child.kill('SIGTERM');
      sub.child.kill('SIGTERM');
    } finally {
      server.kill('SIGTERM');
    }
  }, 60_000);

  it('convene doctor reports a server behind NAT without --announced-ip: media over UDP fails and it says to set it', async () => {
    const server = topo.spawn(topo.ns.srv, process.execPath, [bin, 'start', '--port', '8880', '--rtc-port', '8882', '--api-key', KEY, '--api-secret', SECRET, '--log-level', 'warn']);
    let out = '';
    server.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 20_000;
    while (!out.includes('API secret') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    try {
      const r = await doctor(topo.ns.cli, 'http://10.99.1.1:8880');
      expect(r.stdout).toMatch(/^ok {4}Join a session/m);
      expect(r.stdout).toMatch(/^FAIL {2}Media over UDP .*the server announced 10\.99\.0\.2:8882/m);
      expect(r.stdout).toMatch(/--announced-ip <its public address>/);
      expect(r.code).toBe(1);
    } finally {
      server.kill('SIGTERM');
    }
  }, 100_000);
});
