// Real network topologies for tests: Linux network namespaces joined by veth pairs, NAT and firewalls with
// nftables, processes started inside with `ip netns exec`. Only 10.99.x.x addresses, only inside the
// namespaces created here; everything is removed by destroy().
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';

/** Why namespaces cannot be used here, or null when they can (root, `ip`, `nft`, and the kernel allows it). */
export function netnsUnavailable(): string | null {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  for (const bin of ['ip', 'nft']) if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) return `${bin} is not installed (apt-get install iproute2 nftables)`;
  const probe = `cvprobe${process.pid}`;
  const r = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (r.status !== 0) return `the kernel refuses network namespaces: ${r.stderr.trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return null;
}

function run(args: string[], input?: string): void {
  try {
    execFileSync(args[0] as string, args.slice(1), { input, stdio: ['pipe', 'pipe', 'pipe'], timeout: 10_000 });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`${args.join(' ')}: ${e.stderr?.toString().trim() || e.message}`);
  }
}

/**
 * The hosts of the connectivity tests:
 *
 * ```
 *  srv 10.99.0.2 ── gw 10.99.0.1 | 10.99.1.1 ──┐
 *  (Convene)        (1:1 NAT to srv, hairpin)    │  net: the "internet", a bridge on 10.99.1.0/24
 *                          turn 10.99.1.3 ───────┤  (coturn on its own public host)
 *                                                └── 10.99.1.2 nat (masquerade)
 *                                                     ├─ 10.99.2.1 ── cli 10.99.2.2  behind NAT
 *                                                     ├─ 10.99.3.1 ── blk 10.99.3.2  behind NAT, UDP dropped except to port 3478
 *                                                     └─ 10.99.4.1 ── tcp 10.99.4.2  behind NAT, no UDP at all
 * ```
 * gw is the server's 1:1 NAT (a cloud VM's public address): 10.99.1.1 is forwarded to srv and srv's traffic
 * leaves as 10.99.1.1. nat is a home/office router: its clients share 10.99.1.2.
 */
export interface Topology {
  readonly ns: { srv: string; gw: string; net: string; turn: string; nat: string; cli: string; blk: string; tcp: string };
  readonly publicIp: '10.99.1.1';
  readonly serverIp: '10.99.0.2';
  /** Start `cmd args` inside a namespace (child process; killed by destroy()). */
  spawn(ns: string, cmd: string, args: string[], env?: NodeJS.ProcessEnv): ChildProcess;
  /** Run to completion inside a namespace; resolves with the exit code and output. */
  exec(ns: string, cmd: string, args: string[], timeoutMs: number, env?: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Kill every child and delete the namespaces (idempotent). */
  destroy(): Promise<void>;
}

/** Build the topology. `tag` keeps parallel runs apart (namespace names `cv<tag><host>`). */
export function createTopology(tag: string = String(process.pid % 100_000)): Topology {
  const ns = { srv: `cv${tag}srv`, gw: `cv${tag}gw`, net: `cv${tag}net`, turn: `cv${tag}turn`, nat: `cv${tag}nat`, cli: `cv${tag}cli`, blk: `cv${tag}blk`, tcp: `cv${tag}tcp` };
  const children = new Set<ChildProcess>();
  const created: string[] = [];
  const destroy = async (): Promise<void> => {
    await Promise.all(
      [...children].map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once('exit', () => resolve());
            c.kill('SIGTERM');
            setTimeout(() => c.kill('SIGKILL'), 3000).unref();
          }),
      ),
    );
    children.clear();
    for (const n of created.splice(0)) spawnSync('ip', ['netns', 'del', n]);
  };
  try {
    for (const n of Object.values(ns)) {
      spawnSync('ip', ['netns', 'del', n]); // leftovers of a crashed run
      run(['ip', 'netns', 'add', n]);
      created.push(n);
      run(['ip', '-n', n, 'link', 'set', 'lo', 'up']);
    }
    const link = (a: string, ifa: string, ipa: string, b: string, ifb: string, ipb: string): void => {
      run(['ip', 'link', 'add', ifa, 'netns', a, 'type', 'veth', 'peer', 'name', ifb, 'netns', b]);
      run(['ip', '-n', a, 'addr', 'add', ipa, 'dev', ifa]);
      run(['ip', '-n', b, 'addr', 'add', ipb, 'dev', ifb]);
      run(['ip', '-n', a, 'link', 'set', ifa, 'up']);
      run(['ip', '-n', b, 'link', 'set', ifb, 'up']);
    };
    link(ns.srv, 'eth0', '10.99.0.2/24', ns.gw, 'lan0', '10.99.0.1/24');
    // The public segment: a bridge in `net`, one port per public host.
    run(['ip', '-n', ns.net, 'link', 'add', 'br0', 'type', 'bridge']);
    run(['ip', '-n', ns.net, 'link', 'set', 'br0', 'up']);
    const plug = (host: string, ifHost: string, ip: string, port: string): void => {
      run(['ip', 'link', 'add', ifHost, 'netns', host, 'type', 'veth', 'peer', 'name', port, 'netns', ns.net]);
      run(['ip', '-n', host, 'addr', 'add', ip, 'dev', ifHost]);
      run(['ip', '-n', host, 'link', 'set', ifHost, 'up']);
      run(['ip', '-n', ns.net, 'link', 'set', port, 'master', 'br0']);
      run(['ip', '-n', ns.net, 'link', 'set', port, 'up']);
    };
    plug(ns.gw, 'wan0', '10.99.1.1/24', 'p-gw');
    plug(ns.nat, 'wan0', '10.99.1.2/24', 'p-nat');
    plug(ns.turn, 'eth0', '10.99.1.3/24', 'p-turn');
    link(ns.nat, 'lan0', '10.99.2.1/24', ns.cli, 'eth0', '10.99.2.2/24');
    link(ns.nat, 'lan1', '10.99.3.1/24', ns.blk, 'eth0', '10.99.3.2/24');
    link(ns.nat, 'lan2', '10.99.4.1/24', ns.tcp, 'eth0', '10.99.4.2/24');
    run(['ip', '-n', ns.srv, 'route', 'add', 'default', 'via', '10.99.0.1']);
    run(['ip', '-n', ns.cli, 'route', 'add', 'default', 'via', '10.99.2.1']);
    run(['ip', '-n', ns.blk, 'route', 'add', 'default', 'via', '10.99.3.1']);
    run(['ip', '-n', ns.tcp, 'route', 'add', 'default', 'via', '10.99.4.1']);
    // The TURN host has a default route like any internet host (toward a next hop that never answers):
    // without one, relaying toward a peer's private address fails synchronously (ENETUNREACH) and coturn
    // drops the whole allocation, where on the internet that packet would just be lost.
    run(['ip', '-n', ns.turn, 'route', 'add', 'default', 'via', '10.99.1.254']);
    for (const r of [ns.gw, ns.nat]) run(['ip', 'netns', 'exec', r, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    // gw: 1:1 NAT for the server, with hairpinning.
    run(
      ['ip', 'netns', 'exec', ns.gw, 'nft', '-f', '-'],
      `table ip convene {
  chain pre { type nat hook prerouting priority dstnat; ip daddr 10.99.1.1 dnat to 10.99.0.2; }
  chain post { type nat hook postrouting priority srcnat; ip saddr 10.99.0.2 snat to 10.99.1.1; }
}
`,
    );
    // nat: masquerade the client networks; blk's may send UDP only to the TURN port, tcp's no UDP at all.
    run(
      ['ip', 'netns', 'exec', ns.nat, 'nft', '-f', '-'],
      `table ip convene {
  chain post { type nat hook postrouting priority srcnat; oifname "wan0" masquerade; }
  chain forward_filter {
    type filter hook forward priority filter; policy accept;
    iifname "lan1" meta l4proto udp udp dport != 3478 counter drop
    iifname "lan2" meta l4proto udp counter drop
  }
}
`,
    );
  } catch (err) {
    void destroy();
    throw err;
  }
  const spawnIn = (n: string, cmd: string, args: string[], env?: NodeJS.ProcessEnv): ChildProcess => {
    const c = spawn('ip', ['netns', 'exec', n, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    children.add(c);
    c.once('exit', () => children.delete(c));
    return c;
  };
  return {
    ns,
    publicIp: '10.99.1.1',
    serverIp: '10.99.0.2',
    spawn: spawnIn,
    exec(n, cmd, args, timeoutMs, env) {
      return new Promise((resolve) => {
        const c = spawnIn(n, cmd, args, env);
        let stdout = '';
        let stderr = '';
        c.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
        c.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
        const t = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
        c.once('exit', (code) => {
          clearTimeout(t);
          resolve({ code, stdout, stderr });
        });
      });
    },
    destroy,
  };
}

/** Collect a child's stdout as JSON lines; `next(pred)` waits for a matching line. */
export class JsonLines {
  readonly lines: Record<string, unknown>[] = [];
  #text = '';
  #err = '';
  #waiters: { pred: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] = [];

  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => {
      this.#text += d.toString();
      let i;
      while ((i = this.#text.indexOf('\n')) >= 0) {
        const line = this.#text.slice(0, i);
        this.#text = this.#text.slice(i + 1);
        let obj: Record<string, unknown>;
        try {
          obj = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        this.lines.push(obj);
        for (const w of this.#waiters.filter((x) => x.pred(obj))) {
          this.#waiters.splice(this.#waiters.indexOf(w), 1);
          w.resolve(obj);
        }
      }
    });
    child.stderr?.on('data', (d: Buffer) => (this.#err = (this.#err + d.toString()).slice(-8000)));
  }

  /** What the child wrote to stderr (last 8 kB). */
  get stderr(): string {
    return this.#err;
  }

  next(pred: (l: Record<string, unknown>) => boolean, timeoutMs: number, what: string): Promise<Record<string, unknown>> {
    const found = this.lines.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; stderr: ${this.#err.slice(-2000)}`)), timeoutMs);
      this.#waiters.push({
        pred,
        resolve: (l) => {
          clearTimeout(t);
          resolve(l);
        },
      });
    });
  }
}
