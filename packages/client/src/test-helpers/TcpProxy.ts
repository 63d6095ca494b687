import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP proxy in front of the server, to break a client's connection the way
 * networks do: `cut()` resets every connection, `blackhole()` silently stops
 * forwarding on the existing ones (nothing is closed), `refuse()` rejects new
 * connections.
 */
export class TcpProxy {
  readonly #server: Server;
  readonly #pairs = new Set<{ client: Socket; upstream: Socket; dead: boolean }>();
  #refusing = false;
  port = 0;

  private constructor(
    readonly targetHost: string,
    readonly targetPort: number,
  ) {
    this.#server = createServer((client) => this.#onClient(client));
  }

  /** Start a proxy to `targetUrl` (http://host:port) on a free port. */
  static async start(targetUrl: string): Promise<TcpProxy> {
    const u = new URL(targetUrl);
    const p = new TcpProxy(u.hostname, Number(u.port));
    await new Promise<void>((resolve) => p.#server.listen(0, '127.0.0.1', resolve));
    p.port = (p.#server.address() as AddressInfo).port;
    return p;
  }

  /** http URL clients use to reach the server through the proxy. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Number of live (forwarding) connections. */
  get liveConnections(): number {
    let n = 0;
    for (const p of this.#pairs) if (!p.dead) n++;
    return n;
  }

  /** Reset every connection now (both ends see the socket close). */
  cut(): void {
    for (const p of this.#pairs) {
      p.client.destroy();
      p.upstream.destroy();
    }
    this.#pairs.clear();
  }

  /**
   * Silently stop forwarding on every existing connection without closing
   * anything: in both directions, or only `'down'` (server to client) or `'up'`.
   */
  blackhole(direction: 'both' | 'down' | 'up' = 'both'): void {
    for (const p of this.#pairs) {
      p.dead = true;
      // Keep reading and discard, so neither side sees backpressure or a close.
      if (direction !== 'up') {
        p.upstream.unpipe(p.client);
        p.upstream.on('data', () => {});
      }
      if (direction !== 'down') {
        p.client.unpipe(p.upstream);
        p.client.on('data', () => {});
      }
    }
  }

  /** Refuse (immediately close) new connections while `on`. */
  refuse(on = true): void {
    this.#refusing = on;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #onClient(client: Socket): void {
    if (this.#refusing) {
      client.destroy();
      return;
    }
    const upstream = connect(this.targetPort, this.targetHost);
    const pair = { client, upstream, dead: false };
    this.#pairs.add(pair);
    const drop = (): void => {
      this.#pairs.delete(pair);
      if (pair.dead) return;
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
