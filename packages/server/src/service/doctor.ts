import { randomBytes } from 'node:crypto';
import { PROTOCOL_VERSION, SIGNALING_PATH, type IceServer, type JoinedResult } from '@convene/protocol';
import { WebSocket } from 'ws';
import { signHs256 } from './jwt.js';
import { parseIceUrl, probeIceServer } from './turnProbe.js';

/*
 * `convene doctor`: connectivity checks from the user's side of the network, against a running server.
 * Each check is real: a WebSocket to /v1/ws, pings over it, downloads/uploads from /v1/nettest, a join
 * with a token, a published synthetic stream received back through the SFU over ICE+DTLS (the Node
 * peer of @convene/client), the same through each TURN/UDP server with a relay-only policy, and a TURN
 * allocation (or STUN binding) on every ICE server URL the server hands out.
 */

/** Options of {@link runDoctor}. */
export interface DoctorOptions {
  /** Server URL, `http(s)://host:port`. */
  url: string;
  /** A client token for `sessionId`; else minted from apiKey/apiSecret; else a dev-mode server's /dev/token. */
  token?: string;
  apiKey?: string;
  apiSecret?: string;
  /** Session joined for the media checks (default: a fresh `convene-doctor-…` name). */
  sessionId?: string;
  /** Per-check timeout, ms (default 10 000). */
  timeoutMs?: number;
  /** Extra CA (PEM) trusted for `turns:` servers. */
  ca?: string;
  /** Local address the media checks bind (default: all). */
  bindAddress?: string;
}

/** One check's outcome. `fix` says, in plain words, what to change when it failed. */
export interface CheckResult {
  id: string;
  name: string;
  status: 'ok' | 'fail' | 'warn' | 'skip';
  detail: string;
  fix?: string;
  /** A failed required check makes the doctor fail (non-zero exit). */
  required: boolean;
}

/** One line per check: `ok   name   detail`, and `     → fix` on failure. */
export function formatCheck(r: CheckResult): string {
  const tag = { ok: 'ok  ', fail: 'FAIL', warn: 'warn', skip: 'skip' }[r.status];
  return `${tag}  ${r.name.padEnd(26)} ${r.detail}${r.fix && r.status !== 'ok' ? `\n      → ${r.fix}` : ''}`;
}

/** What the doctor uses of `@convene/client/node`, loaded at run time (the server has no build dependency on the client). */
interface DoctorPeer {
  readonly connectionState: string;
  on(e: 'connectionstatechange', f: (s: string) => void): unknown;
  off(e: 'connectionstatechange', f: (s: string) => void): unknown;
  addVideoSource(o: { width: number; height: number; fps: number; bitrate: number; keyframeIntervalMs: number }): unknown;
  addReceiver(kind: 'video'): unknown;
  createOffer(): Promise<{ sdp: string }>;
  setRemoteDescription(d: { type: 'answer'; sdp: string }): Promise<void>;
  getStats(): { selectedCandidatePair: { local: string; remote: string } | null; inbound: { packetsReceived: number }[] };
  close(): void;
}
interface NodeMedia {
  NodePeerConnection: new (o: { name: string; iceServers: IceServer[]; iceTransportPolicy: 'all' | 'relay'; bindAddress?: string }) => DoctorPeer;
}

/** Minimal signaling client: hello, requests by id, acks. */
class Signal {
  readonly ws: WebSocket;
  #nextId = 1;
  readonly #waiting = new Map<number, (f: Record<string, unknown>) => void>();
  #pongs: (() => void)[] = [];
  hello: Promise<Record<string, unknown>>;

  constructor(url: string) {
    this.ws = new WebSocket(url, { handshakeTimeout: 10_000 });
    this.hello = new Promise((resolve, reject) => {
      this.ws.once('error', reject);
      this.ws.once('close', (code) => reject(new Error(`socket closed (${code}) before hello`)));
      this.ws.on('message', (data) => {
        let f: Record<string, unknown>;
        try {
          f = JSON.parse(data.toString()) as Record<string, unknown>;
        } catch {
          return;
        }
        if (f.type === 'hello') resolve(f);
        else if (f.type === 'pong') this.#pongs.shift()?.();
        if (typeof f.q === 'number' && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ v: PROTOCOL_VERSION, type: 'ack', seq: f.q }));
        if ((f.type === 'ok' || f.type === 'error') && typeof f.id === 'number') this.#waiting.get(f.id)?.(f);
      });
    });
    this.hello.catch(() => {});
  }

  request(type: string, fields: Record<string, unknown>, timeoutMs: number): Promise<Record<string, unknown>> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new Error(`no answer to ${type} in ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting.set(id, (f) => {
        clearTimeout(t);
        this.#waiting.delete(id);
        resolve(f);
      });
      this.ws.send(JSON.stringify({ v: PROTOCOL_VERSION, id, type, ...fields }));
    });
  }

  /** Round trip of one `ping` → `pong`, ms. */
  ping(timeoutMs: number): Promise<number> {
    const t0 = performance.now();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no pong')), timeoutMs);
      this.#pongs.push(() => {
        clearTimeout(t);
        resolve(performance.now() - t0);
      });
      this.ws.send(JSON.stringify({ v: PROTOCOL_VERSION, type: 'ping' }));
    });
  }

  close(): void {
    this.ws.removeAllListeners('error');
    this.ws.on('error', () => {});
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1000);
    else this.ws.terminate();
  }
}

/** Drop candidates from a libdatachannel offer: the SFU learns our address from our checks (see mediaBots). */
const withoutCandidates = (sdp: string): string =>
  sdp
    .split('\r\n')
    .filter((l) => !l.startsWith('a=candidate:'))
    .join('\r\n');

/**
 * Host:port pairs of the SFU's UDP media candidates in an SDP. Candidates whose foundation starts with `p` are
 * the tiebreaker proxy's (sfu/TiebreakerProxy.ts): only TURN servers need to reach that port, so a client's
 * advice never names it.
 */
function udpCandidates(sdp: string): string[] {
  const out = new Set<string>();
  for (const m of sdp.matchAll(/a=candidate:(\S+) \d+ (udp|UDP) \d+ (\S+) (\d+) typ/g)) if (!m[1]!.startsWith('p')) out.add(`${m[3]}:${m[4]}`);
  return [...out];
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

/**
 * Run every check; `onResult` sees each result as soon as it is known.
 *
 * @example
 * const { ok, results } = await runDoctor({ url: 'https://video.example.com', apiKey, apiSecret }, (r) => console.log(formatCheck(r)));
 */
export async function runDoctor(options: DoctorOptions, onResult: (r: CheckResult) => void = () => {}): Promise<{ ok: boolean; results: CheckResult[] }> {
  let base: URL;
  try {
    base = new URL(options.url);
  } catch {
    throw new TypeError(`--url is not a URL: ${JSON.stringify(options.url)}`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new TypeError(`--url must be http(s)://…, got ${options.url}`);
  const origin = base.origin;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const results: CheckResult[] = [];
  const report = (r: CheckResult): CheckResult => {
    results.push(r);
    onResult(r);
    return r;
  };
  const wsUrl = origin.replace(/^http/, 'ws') + SIGNALING_PATH;

  // 1. WebSocket reachability.
  const sig = new Signal(wsUrl);
  const cleanup: (() => void)[] = [() => sig.close()];
  try {
    const t0 = performance.now();
    let hello: Record<string, unknown>;
    try {
      hello = await withTimeout(sig.hello, timeoutMs, `no hello from ${wsUrl}`);
    } catch (err) {
      report({
        id: 'websocket',
        name: 'WebSocket signaling',
        status: 'fail',
        required: true,
        detail: `${wsUrl}: ${(err as Error).message}`,
        fix: `Check the URL and that TCP port ${base.port || (base.protocol === 'https:' ? 443 : 80)} reaches the server; behind a reverse proxy, forward WebSocket upgrades on ${SIGNALING_PATH} (Upgrade and Connection headers).`,
      });
      return finish(results);
    }
    report({ id: 'websocket', name: 'WebSocket signaling', status: 'ok', required: true, detail: `${wsUrl} answered in ${Math.round(performance.now() - t0)} ms (server ${String(hello.serverVersion)})` });

    // 2. Round-trip time over the signaling socket.
    const rtts: number[] = [];
    for (let i = 0; i < 5; i++) rtts.push(await sig.ping(timeoutMs).catch(() => NaN));
    const good = rtts.filter((x) => Number.isFinite(x));
    report(
      good.length > 0
        ? { id: 'rtt', name: 'Round-trip time', status: good.length === rtts.length ? 'ok' : 'warn', required: false, detail: `${median(good).toFixed(1)} ms (median of ${good.length} pings${good.length < rtts.length ? `, ${rtts.length - good.length} lost` : ''})` }
        : { id: 'rtt', name: 'Round-trip time', status: 'fail', required: false, detail: 'no ping was answered', fix: 'Something between you and the server drops WebSocket frames; check proxies and their idle timeouts.' },
    );

    // 3. Bandwidth through /v1/nettest (served by the server; absent on older ones).
    await bandwidth(origin, timeoutMs, report);

    // 4. Join a session.
    let joined: JoinedResult;
    try {
      const sessionId = options.sessionId ?? `convene-doctor-${randomBytes(4).toString('hex')}`;
      const token = await tokenFor(origin, sessionId, options);
      const r = await sig.request('connect', { sessionId, token, userName: 'convene doctor', sdk: 'convene-doctor' }, timeoutMs);
      if (r.type !== 'ok') {
        const e = r.error as { name: string; message: string };
        throw new Error(`${e.name}: ${e.message}`);
      }
      joined = r.result as JoinedResult;
      const ice = joined.iceServers ?? [];
      report({
        id: 'join',
        name: 'Join a session',
        status: 'ok',
        required: true,
        detail: `joined ${JSON.stringify(sessionId)}; the server hands out ${ice.length} ICE server${ice.length === 1 ? '' : 's'}${ice.length ? ` (${ice.flatMap((s) => (Array.isArray(s.urls) ? s.urls : [s.urls])).join(', ')})` : ''}`,
      });
    } catch (err) {
      report({
        id: 'join',
        name: 'Join a session',
        status: 'fail',
        required: true,
        detail: (err as Error).message,
        fix: 'The media checks need a session: give --api-key and --api-secret (or CONVENE_API_KEY/CONVENE_API_SECRET), or --token with --session.',
      });
      return finish(results);
    }

    // 5. TURN allocation / STUN binding for every ICE server URL.
    const iceServers = joined.iceServers ?? [];
    for (const s of iceServers) {
      for (const url of Array.isArray(s.urls) ? s.urls : [s.urls]) report(await probeCheck(url, s, timeoutMs, options.ca));
    }

    // 6. Media: a real ICE + DTLS connection to the SFU, and media back through it.
    let media: NodeMedia;
    try {
      const spec = '@convene/client/node';
      media = (await import(spec)) as NodeMedia;
    } catch (err) {
      report({ id: 'media-udp', name: 'Media over UDP', status: 'fail', required: true, detail: `cannot load the Node media peer: ${(err as Error).message}`, fix: 'Install and build @convene/client next to @convene/server (npm run build).' });
      return finish(results);
    }
    const direct = await mediaCheck(media, sig, { policy: 'all', iceServers: [], bindAddress: options.bindAddress, timeoutMs }, cleanup);
    const turnUdp = iceServers.flatMap((s) =>
      (Array.isArray(s.urls) ? s.urls : [s.urls]).filter((u) => u.startsWith('turn:') && parseIceUrl(u).transport === 'udp').map((u) => ({ ...s, urls: u })),
    );
    const relay = turnUdp.length > 0 ? await mediaCheck(media, sig, { policy: 'relay', iceServers: [turnUdp[0] as IceServer], bindAddress: options.bindAddress, timeoutMs }, cleanup) : null;
    const anyMedia = direct.ok || (relay?.ok ?? false);
    const sfu = direct.announced.join(', ') || 'the SFU';
    report(
      direct.ok
        ? { id: 'media-udp', name: 'Media over UDP', status: 'ok', required: true, detail: `ICE+DTLS in ${direct.ms} ms (${direct.pair || sfu}); ${direct.packets} packets came back through the SFU` }
        : {
            id: 'media-udp',
            name: 'Media over UDP',
            status: anyMedia ? 'warn' : 'fail',
            required: !anyMedia,
            detail: `${direct.error} (the server announced ${sfu})`,
            fix:
              `UDP from here to ${sfu} does not get through. On the server: open/forward that UDP port, and if the server is behind NAT start it with --announced-ip <its public address> (or give it a STUN/TURN server, --stun-url/--turn-url, to detect it)` +
              (anyMedia ? '. Calls still connect here through TURN (slower).' : turnUdp.length > 0 ? '. TURN did not carry media either (see below).' : '. If this network blocks UDP, run a TURN server (coturn) and give it to clients with --turn-url/--turn-secret.'),
          },
    );
    if (relay)
      report(
        relay.ok && / typ relay/.test(relay.pair)
          ? { id: 'media-relay', name: 'Media through TURN/UDP', status: 'ok', required: !direct.ok, detail: `relay-only ICE+DTLS through ${String(turnUdp[0]?.urls)} in ${relay.ms} ms (${relay.pair}); ${relay.packets} packets came back` }
          : relay.ok
            ? {
                id: 'media-relay',
                name: 'Media through TURN/UDP',
                status: 'warn',
                required: false,
                detail: `connected over a direct path (${relay.pair}), not through the relay: the Node peer's relay-only policy only hides its other candidates, so a working direct path wins; the TURN allocation checks above still cover TURN`,
              }
          : {
              id: 'media-relay',
              name: 'Media through TURN/UDP',
              status: direct.ok ? 'warn' : 'fail',
              required: !direct.ok,
              detail: relay.error,
              fix: `The TURN server allocated no usable relay toward the SFU: check that it can reach the SFU's UDP port (${sfu}), that its credentials match the server's --turn-secret, and that UDP to the TURN port is open.`,
            },
      );
  } finally {
    for (const c of cleanup.reverse()) c();
  }
  return finish(results);
}

function finish(results: CheckResult[]): { ok: boolean; results: CheckResult[] } {
  return { ok: !results.some((r) => r.required && r.status === 'fail'), results };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error(what)), ms)))]).finally(() => clearTimeout(t));
}

async function tokenFor(origin: string, sessionId: string, o: DoctorOptions): Promise<string> {
  if (o.token) return o.token;
  if (o.apiKey && o.apiSecret) {
    const now = Math.floor(Date.now() / 1000);
    return signHs256({ iss: o.apiKey, tpc: sessionId, role: 'publisher', iat: now, exp: now + 600, user_name: 'convene doctor' }, o.apiSecret);
  }
  const r = await fetch(`${origin}/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sessionName: sessionId, userName: 'convene doctor', role: 'publisher' }),
    signal: AbortSignal.timeout(10_000),
  }).catch(() => null);
  if (!r || !r.ok) throw new Error('no credentials given and the server is not in dev mode');
  return ((await r.json()) as { token: string }).token;
}

async function bandwidth(origin: string, timeoutMs: number, report: (r: CheckResult) => void): Promise<void> {
  const size = 2 * 1024 * 1024;
  try {
    const t0 = performance.now();
    const r = await fetch(`${origin}/v1/nettest?bytes=${size}`, { signal: AbortSignal.timeout(timeoutMs) });
    if (r.status === 404) {
      report({ id: 'download', name: 'Download bandwidth', status: 'skip', required: false, detail: 'this server has no /v1/nettest' });
      return;
    }
    const n = (await r.arrayBuffer()).byteLength;
    const s = (performance.now() - t0) / 1000;
    report({ id: 'download', name: 'Download bandwidth', status: 'ok', required: false, detail: `${((n * 8) / s / 1e6).toFixed(1)} Mbit/s (${(n / 1048576).toFixed(0)} MiB in ${(s * 1000).toFixed(0)} ms)` });
  } catch (err) {
    report({ id: 'download', name: 'Download bandwidth', status: 'fail', required: false, detail: (err as Error).message, fix: 'HTTP downloads from the server stall: check proxies between you and the server.' });
  }
  try {
    const body = randomBytes(size);
    const t0 = performance.now();
    const r = await fetch(`${origin}/v1/nettest`, { method: 'POST', body, signal: AbortSignal.timeout(timeoutMs) });
    await r.arrayBuffer();
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    const s = (performance.now() - t0) / 1000;
    report({ id: 'upload', name: 'Upload bandwidth', status: 'ok', required: false, detail: `${((size * 8) / s / 1e6).toFixed(1)} Mbit/s (${(size / 1048576).toFixed(0)} MiB in ${(s * 1000).toFixed(0)} ms)` });
  } catch (err) {
    report({ id: 'upload', name: 'Upload bandwidth', status: 'fail', required: false, detail: (err as Error).message, fix: 'HTTP uploads to the server stall: check proxies between you and the server.' });
  }
}

async function probeCheck(url: string, s: IceServer, timeoutMs: number, ca: string | undefined): Promise<CheckResult> {
  let u;
  try {
    u = parseIceUrl(url);
  } catch (err) {
    return { id: `ice:${url}`, name: `ICE server ${url}`, status: 'fail', required: true, detail: (err as Error).message, fix: 'Fix the URL in the server configuration (--stun-url/--turn-url).' };
  }
  const isTurn = u.scheme !== 'stun';
  const name = `${isTurn ? 'TURN' : 'STUN'} ${u.transport.toUpperCase()} ${u.host}:${u.port}`;
  const r = await probeIceServer(url, { username: s.username, credential: s.credential, timeoutMs: Math.min(timeoutMs, 5000), ca });
  if (r.ok) return { id: `ice:${url}`, name, status: 'ok', required: true, detail: isTurn ? `allocated relay ${r.relayed ?? '?'} in ${r.ms} ms (you appear as ${r.mapped ?? '?'})` : `binding answered in ${r.ms} ms (you appear as ${r.mapped ?? '?'})` };
  const via = u.transport === 'udp' ? `UDP port ${u.port}` : u.transport === 'tcp' ? `TCP port ${u.port}` : `TLS on TCP port ${u.port}`;
  const fix =
    r.reason === 'unauthorized'
      ? "The TURN server refused the credentials: make the server's --turn-secret equal coturn's static-auth-secret (with use-auth-secret), or fix --turn-username/--turn-credential."
      : r.reason === 'tls'
        ? `The TLS certificate of ${u.host}:${u.port} is not trusted (${r.message}): give coturn a certificate for ${u.host} from a public CA.`
        : r.reason === 'refused'
          ? `Nothing listens on ${via} of ${u.host}: start the TURN server's listener there or fix the URL.`
          : `${via} of ${u.host} does not answer from here: open it on the TURN host's firewall; if this network blocks it, offer TURN over another transport (turn:…?transport=tcp, turns:…:443).`;
  return { id: `ice:${url}`, name, status: 'fail', required: true, detail: `${r.reason}: ${r.message}`, fix };
}

interface MediaOutcome {
  ok: boolean;
  /** Selected candidate pair of the publisher, `local -> remote`. */
  pair: string;
  ms: number;
  packets: number;
  announced: string[];
  error: string;
}

/** Publish a short synthetic stream, subscribe to it, and count what comes back through the SFU. */
async function mediaCheck(
  media: NodeMedia,
  sig: Signal,
  o: { policy: 'all' | 'relay'; iceServers: IceServer[]; bindAddress?: string; timeoutMs: number },
  cleanup: (() => void)[],
): Promise<MediaOutcome> {
  const t0 = performance.now();
  const peerOptions = { iceServers: o.iceServers, iceTransportPolicy: o.policy, bindAddress: o.bindAddress };
  const pub = new media.NodePeerConnection({ ...peerOptions, name: 'doctor-pub' });
  cleanup.push(() => pub.close());
  let announced: string[] = [];
  let pair = '';
  const fail = (error: string): MediaOutcome => ({ ok: false, pair, ms: Math.round(performance.now() - t0), packets: 0, announced, error });
  try {
    pub.addVideoSource({ width: 320, height: 240, fps: 15, bitrate: 150_000, keyframeIntervalMs: 1000 });
    const offer = await pub.createOffer();
    const r = await sig.request('publish', { sdp: withoutCandidates(offer.sdp), name: `doctor ${o.policy}` }, o.timeoutMs);
    if (r.type !== 'ok') return fail(`publish refused: ${JSON.stringify(r.error)}`);
    const res = r.result as { stream: { streamId: string }; sdp: string };
    announced = udpCandidates(res.sdp);
    const connected = waitConnected(pub, o.timeoutMs);
    await pub.setRemoteDescription({ type: 'answer', sdp: res.sdp });
    await connected;
    const ms = Math.round(performance.now() - t0);
    const sel = pub.getStats().selectedCandidatePair;
    if (sel) pair = `${sel.local} -> ${sel.remote}`;
    const sub = new media.NodePeerConnection({ ...peerOptions, name: 'doctor-sub' });
    cleanup.push(() => sub.close());
    sub.addReceiver('video');
    const subOffer = await sub.createOffer();
    const sr = await sig.request('subscribe', { streamId: res.stream.streamId, sdp: withoutCandidates(subOffer.sdp) }, o.timeoutMs);
    if (sr.type !== 'ok') return fail(`subscribe refused: ${JSON.stringify(sr.error)}`);
    const subConnected = waitConnected(sub, o.timeoutMs);
    await sub.setRemoteDescription({ type: 'answer', sdp: (sr.result as { sdp: string }).sdp });
    await subConnected;
    const end = Date.now() + o.timeoutMs;
    let packets = 0;
    while (Date.now() < end) {
      packets = sub.getStats().inbound.reduce((n, s) => n + s.packetsReceived, 0);
      if (packets >= 20) break;
      await new Promise((r2) => setTimeout(r2, 100));
    }
    await sig.request('unpublish', { streamId: res.stream.streamId }, o.timeoutMs).catch(() => {});
    if (packets === 0) return { ok: false, pair, ms, packets, announced, error: 'connected, but no media came back through the SFU' };
    return { ok: true, pair, ms, packets, announced, error: '' };
  } catch (err) {
    return fail((err as Error).message);
  } finally {
    pub.close();
  }
}

function waitConnected(pc: DoctorPeer, timeoutMs: number): Promise<void> {
  if (pc.connectionState === 'connected') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      pc.off('connectionstatechange', on);
      reject(new Error(`ICE/DTLS did not connect in ${timeoutMs} ms (state ${pc.connectionState})`));
    }, timeoutMs);
    const on = (s: string): void => {
      if (s === 'connected') {
        clearTimeout(t);
        pc.off('connectionstatechange', on);
        resolve();
      } else if (s === 'failed' || s === 'closed') {
        clearTimeout(t);
        pc.off('connectionstatechange', on);
        reject(new Error(`ICE/DTLS ${s} (state ${s})`));
      }
    };
    pc.on('connectionstatechange', on);
  });
}
