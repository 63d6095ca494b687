import { createSocket } from 'node:dgram';
import { IceUdpMuxListener } from 'node-datachannel';
import { MediaCounters } from './counters.js';
import { InvalidStateError } from './errors.js';
import { LdcLink } from './LdcLink.js';
import { loadNativeModule, NativeMedia, nativeLoadError } from './NativeMedia.js';
import { NativeLink } from './NativeLink.js';
import { Router } from './Router.js';
import { TiebreakerProxy } from './TiebreakerProxy.js';
import type { TransportLink } from './TransportLink.js';
import type { TransportNetwork } from './WebRtcTransport.js';

/** Which ICE/DTLS/SRTP implementation a worker's transports use. */
export type MediaTransportKind = 'native' | 'libdatachannel';

/** Options of {@link MediaWorker.create}. */
export interface MediaWorkerOptions {
  /** Local address for media (default '0.0.0.0'). */
  listenIp?: string;
  /** The one UDP port for all peers (ICE UDP mux); 0 picks a free port (default 0). */
  port?: number;
  /** Address announced to clients in ICE candidates (the public IP when behind NAT). */
  announcedAddress?: string;
  /** STUN/TURN URLs for libdatachannel. */
  iceServers?: string[];
  /**
   * UDP port of the {@link TiebreakerProxy}, which lets browsers relaying through TURN over TCP or TLS connect
   * (libjuice refuses their checks); 0 picks a free port, `null` runs without it. Default: `port + 1` when
   * `port` is fixed (the worker runs without the proxy if that port is taken), none when `port` is 0 (nothing
   * predictable to open in a firewall). A port given here must be free.
   */
  tiebreakerProxyPort?: number | null;
  /**
   * 'native' (our addon, `@convene/media-native`: ICE-lite, DTLS and SRTP on one socket, no threads) or
   * 'libdatachannel' (node-datachannel). Default: native when the addon is built, else libdatachannel.
   * The TiebreakerProxy runs only with libdatachannel (the native ICE accepts a zero tiebreaker).
   */
  transport?: MediaTransportKind;
}

/**
 * The media plane of one process: one UDP port shared by every peer connection, and the routers using it.
 * @example
 *   const worker = await MediaWorker.create({ listenIp: '0.0.0.0', port: 40000, announcedAddress: '203.0.113.7' });
 *   const router = worker.createRouter();
 */
export class MediaWorker {
  /** Network settings shared by all transports. */
  readonly network: Readonly<TransportNetwork>;
  #closed = false;
  readonly #routers = new Set<Router>();
  /** Counters of routers already closed, so worker totals never go backwards. */
  readonly #retired = new MediaCounters();
  /**
   * Holds the UDP port for the worker's lifetime: peer connections bind it only when they negotiate, and
   * between two of them another socket could take it. Also makes a taken port fail at create().
   */
  readonly #listener: IceUdpMuxListener | undefined;
  readonly #proxy: TiebreakerProxy | undefined;
  readonly #native: NativeMedia | undefined;
  readonly #createLink: (name: string) => TransportLink;
  /** The transport implementation in use. */
  readonly transport: MediaTransportKind;

  private constructor(network: TransportNetwork, parts: { listener?: IceUdpMuxListener; proxy?: TiebreakerProxy | undefined; native?: NativeMedia }) {
    this.network = network;
    this.#listener = parts.listener;
    this.#proxy = parts.proxy;
    const native = parts.native;
    this.#native = native;
    this.transport = native ? 'native' : 'libdatachannel';
    this.#createLink = native ? () => new NativeLink(native) : (name) => new LdcLink(network, name);
  }

  /** Creates a worker; resolves once its UDP port is bound. Rejects when the port is taken. */
  static async create(options: MediaWorkerOptions = {}): Promise<MediaWorker> {
    const listenIp = options.listenIp ?? '0.0.0.0';
    const kind = options.transport ?? (loadNativeModule() ? 'native' : 'libdatachannel');
    if (kind === 'native') {
      const mod = loadNativeModule();
      if (!mod) throw new Error('the native media transport (@convene/media-native) is not built', { cause: nativeLoadError() });
      let native: NativeMedia;
      try {
        native = new NativeMedia(mod, listenIp, options.port ?? 0, options.announcedAddress);
      } catch (err) {
        throw new Error(`cannot bind UDP ${listenIp}:${options.port ?? 0} for media`, { cause: err });
      }
      const network: TransportNetwork = { listenIp, port: native.endpoint.port, announcedAddress: options.announcedAddress, iceServers: options.iceServers };
      return new MediaWorker(network, { native });
    }
    const fixed = options.port !== undefined && options.port > 0;
    for (let attempt = 0; ; attempt++) {
      const port = fixed ? options.port! : await freeUdpPort(listenIp);
      let listener: IceUdpMuxListener;
      try {
        listener = new IceUdpMuxListener(port, listenIp);
      } catch (err) {
        if (fixed || attempt >= 5) throw new Error(`cannot bind UDP ${listenIp}:${port} for media`, { cause: err });
        continue; // someone took the free port between the probe and the bind: pick another
      }
      const iceCredentials = new Map<string, string>();
      let proxy: TiebreakerProxy | undefined;
      try {
        proxy = await startProxy(options, listenIp, port, iceCredentials);
      } catch (err) {
        listener.stop();
        throw err;
      }
      const network: TransportNetwork = {
        listenIp,
        port,
        announcedAddress: options.announcedAddress,
        iceServers: options.iceServers,
        tiebreakerProxyPort: proxy?.port,
        iceCredentials,
      };
      return new MediaWorker(network, { listener, proxy });
    }
  }

  /** The UDP port every transport uses. */
  get port(): number {
    return this.network.port;
  }

  /** UDP port of the {@link TiebreakerProxy}, or null when the worker runs without it. */
  get tiebreakerProxyPort(): number | null {
    return this.#proxy?.port ?? null;
  }

  /** True after close(). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Creates a router (usually one per session). */
  createRouter(): Router {
    if (this.#closed) throw new InvalidStateError('MediaWorker closed');
    const r = new Router(this.network, this.#createLink);
    this.#routers.add(r);
    r.on('close', () => {
      this.#routers.delete(r);
      this.#retired.add(r.counters);
    });
    return r;
  }

  /** Sum of the counters of every router, closed ones included. */
  counters(): MediaCounters {
    const sum = new MediaCounters();
    sum.add(this.#retired);
    for (const r of this.#routers) sum.add(r.counters);
    return sum;
  }

  /** Closes every router. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const r of [...this.#routers]) r.close();
    this.#proxy?.close();
    this.#listener?.stop();
    this.#native?.close();
  }
}

/** Starts the worker's TiebreakerProxy per `options.tiebreakerProxyPort` (see there), or none. */
async function startProxy(options: MediaWorkerOptions, listenIp: string, port: number, credentials: Map<string, string>): Promise<TiebreakerProxy | undefined> {
  const wanted = options.tiebreakerProxyPort;
  if (wanted === null) return undefined;
  const targetIp = listenIp === '0.0.0.0' ? '127.0.0.1' : listenIp === '::' ? '::1' : listenIp;
  const create = (p: number): Promise<TiebreakerProxy> =>
    TiebreakerProxy.create({ listenIp, port: p, targetIp, targetPort: port, passwordFor: (ufrag) => credentials.get(ufrag) });
  if (wanted !== undefined) return create(wanted);
  if (!options.port) return undefined;
  try {
    return await create(port < 65535 ? port + 1 : port - 1);
  } catch {
    return undefined; // the default port is taken: browsers relaying over TURN/TCP will not connect (README)
  }
}

/** Asks the OS for a free UDP port on `ip` (released immediately; libdatachannel binds it next). */
function freeUdpPort(ip: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, ip, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
