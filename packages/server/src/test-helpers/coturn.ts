// A real coturn (Debian's `coturn` package, binary `turnserver`) for tests: TURN REST API credentials
// (use-auth-secret), UDP + TCP on one port, TLS on another with a throw-away self-signed certificate.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { probeIceServer } from '../service/turnProbe.js';

/** Whether coturn is installed (scripts/test.mjs installs it when missing and root). */
export function hasCoturn(): boolean {
  return spawnSync('sh', ['-c', 'command -v turnserver'], { stdio: 'ignore' }).status === 0;
}

export interface CoturnOptions {
  /** Address coturn listens on and relays from. */
  ip: string;
  /** TURN port (UDP and TCP). */
  port: number;
  /** TURN-over-TLS port; 0 = no TLS listener. */
  tlsPort?: number;
  /** Shared secret (TURN REST API). */
  secret: string;
  /** Run inside this network namespace (`ip netns exec`). */
  netns?: string;
  /** Public address behind 1:1 NAT (`--external-ip public/private`): relay addresses are advertised with it. */
  externalIp?: string;
  /** Relay port range. */
  minPort?: number;
  maxPort?: number;
}

export interface Coturn {
  readonly ip: string;
  readonly port: number;
  readonly tlsPort: number;
  /** PEM of the self-signed certificate of the TLS listener (trust it with `ca`). */
  readonly certPem: string;
  readonly secret: string;
  /** Everything coturn logged (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

/** A port free for both UDP and TCP on `ip` right now (for coturn's listeners on a shared host). */
export async function freePort(ip: string): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const tcp = createServer();
    await new Promise<void>((resolve) => tcp.listen(0, ip, resolve));
    const { port } = tcp.address() as { port: number };
    const udp = createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, ip, () => resolve(true));
    });
    udp.close();
    await new Promise<void>((resolve) => tcp.close(() => resolve()));
    if (ok) return port;
  }
  throw new Error('no port free for both UDP and TCP');
}

/** Start coturn and wait until it answers a STUN Binding request. */
export async function startCoturn(o: CoturnOptions): Promise<Coturn> {
  const dir = mkdtempSync(join(tmpdir(), 'coturn-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const tlsPort = o.tlsPort ?? 0;
  if (tlsPort > 0) {
    const r = spawnSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=turn.test', '-addext', `subjectAltName=IP:${o.ip}`],
      { stdio: 'pipe' },
    );
    if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr.toString()}`);
  }
  const args = [
    '-n',
    '--listening-ip', o.ip,
    '--relay-ip', o.ip,
    '--listening-port', String(o.port),
    '--realm', 'convene.test',
    '--use-auth-secret',
    '--static-auth-secret', o.secret,
    '--fingerprint',
    '--no-cli',
    '--no-dtls',
    '--allow-loopback-peers',
    '--min-port', String(o.minPort ?? 49160),
    '--max-port', String(o.maxPort ?? 49200),
    '--pidfile', join(dir, 'turnserver.pid'),
    '--log-file', 'stdout',
    '--simple-log',
    '--verbose',
  ];
  if (o.externalIp) args.push('--external-ip', `${o.externalIp}/${o.ip}`);
  if (tlsPort > 0) args.push('--tls-listening-port', String(tlsPort), '--cert', cert, '--pkey', key);
  else args.push('--no-tls');
  const cmd = o.netns ? 'ip' : 'turnserver';
  const argv = o.netns ? ['netns', 'exec', o.netns, 'turnserver', ...args] : args;
  const child: ChildProcess = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  child.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let alive = true;
  void exited.then(() => (alive = false));
  const stop = async (): Promise<void> => {
    if (alive) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // Wait for the listener: from the host we can probe only when coturn is in our namespace; inside a
  // namespace the harness probes through its own exec. Either way, coturn logs its listeners.
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (!alive) break;
    if (!o.netns) {
      const r = await probeIceServer(`stun:${o.ip}:${o.port}`, { timeoutMs: 300 });
      if (r.ok) break;
    } else if (/(UDP|TCP|TLS)?.*listener opened on/i.test(out) || /IPv4\. (UDP|TCP) listener opened/.test(out)) {
      await new Promise((r) => setTimeout(r, 200));
      break;
    } else await new Promise((r) => setTimeout(r, 50));
  }
  if (!alive) {
    await stop();
    throw new Error(`coturn exited at start:\n${out}`);
  }
  return {
    ip: o.ip,
    port: o.port,
    tlsPort,
    certPem: tlsPort > 0 ? readFileSync(cert, 'utf8') : '',
    secret: o.secret,
    log: () => out,
    stop,
  };
}
