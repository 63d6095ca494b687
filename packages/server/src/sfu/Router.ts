import { randomUUID, randomInt } from 'node:crypto';
import { TypedEmitter } from '@convene/protocol';
import { MediaCounters } from './counters.js';
import { InvalidStateError } from './errors.js';
import type { RouterEvents } from './events.js';
import { nowMs } from './ntp.js';
import type { Producer } from './Producer.js';
import type { TransportLink } from './TransportLink.js';
import { WebRtcTransport, type TransportNetwork } from './WebRtcTransport.js';

/** Periodic RTCP work (NACK retries, transport-cc feedback, SR/RR, deferred PLIs) runs at this interval. */
const TICK_MS = 20;

/**
 * A group of transports whose producers and consumers can be connected (typically one session).
 * Owns its transports; one timer drives the periodic RTCP work of all of them.
 * @example
 *   const router = worker.createRouter();
 *   const t = router.createWebRtcTransport();
 */
export class Router extends TypedEmitter<RouterEvents> {
  /** Unique id. */
  readonly id = randomUUID();
  /** Media-plane counters of this router, read by the metrics layer. */
  readonly counters = new MediaCounters();
  #closed = false;
  readonly #network: TransportNetwork;
  readonly #createLink: (name: string) => TransportLink;
  readonly #transports = new Map<string, WebRtcTransport>();
  readonly #ssrcs = new Set<number>();
  #timer: NodeJS.Timeout | undefined;

  /** @internal Created by {@link MediaWorker.createRouter}. */
  constructor(network: TransportNetwork, createLink: (name: string) => TransportLink) {
    super();
    this.#network = network;
    this.#createLink = createLink;
  }

  /** True after close(). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Transports of this router. */
  get transports(): ReadonlyMap<string, WebRtcTransport> {
    return this.#transports;
  }

  /** Creates a transport for one client (one peer connection on the worker's shared UDP port). */
  createWebRtcTransport(): WebRtcTransport {
    this.#assertOpen();
    const t = new WebRtcTransport(
      {
        network: this.#network,
        counters: this.counters,
        allocateSsrc: () => this.#allocateSsrc(),
        createLink: this.#createLink,
        onClose: (closed) => {
          this.#transports.delete(closed.id);
          if (this.#transports.size === 0) this.#stopTimer();
        },
      },
      `convene-${this.#transports.size}`,
    );
    this.#transports.set(t.id, t);
    this.#timer ??= setInterval(() => this.#tick(), TICK_MS);
    return t;
  }

  /** Finds a producer of any transport of this router. */
  getProducer(id: string): Producer | undefined {
    for (const t of this.#transports.values()) {
      const p = t.producers.get(id);
      if (p) return p;
    }
    return undefined;
  }

  /** Closes every transport (and with them producers and consumers). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of [...this.#transports.values()]) t.close();
    this.#stopTimer();
    this.emit('close');
    this.off();
  }

  #tick(): void {
    const now = nowMs();
    for (const t of this.#transports.values()) t._tick(now);
  }

  #stopTimer(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #allocateSsrc(): number {
    for (;;) {
      const s = randomInt(1, 0xffffffff);
      if (!this.#ssrcs.has(s)) {
        this.#ssrcs.add(s);
        return s;
      }
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new InvalidStateError('Router closed');
  }
}
