import { networkInterfaces } from 'node:os';
import { createRequire } from 'node:module';
import type { ConnectionStats } from '@convene/media-native';
import type { NativeLink } from './NativeLink.js';

/** The addon's module; its types come from the workspace package (they exist whether or not it was built). */
export type NativeModule = Pick<typeof import('@convene/media-native'), 'Endpoint'>;
/** One UDP socket with ICE-lite, DTLS and SRTP for every connection on it (see packages/media-native). */
export type NativeEndpoint = InstanceType<NativeModule['Endpoint']>;
/** Counters of one native connection. */
export type NativeConnectionStats = ConnectionStats;

/** Event codes of the addon's onEvent. */
export const NativeEvent = { ICE_CONNECTED: 1, PATH_CHANGED: 2, DTLS_CONNECTED: 3, FAILED: 4, CLOSED: 5 } as const;

let loaded: NativeModule | null | undefined;
let loadError: unknown;

/** The native addon, or null when it is not built (the reason is in {@link nativeLoadError}). */
export function loadNativeModule(): NativeModule | null {
  if (loaded !== undefined) return loaded;
  try {
    loaded = createRequire(import.meta.url)('@convene/media-native') as NativeModule;
  } catch (err) {
    loadError = err;
    loaded = null;
  }
  return loaded;
}

/** Why {@link loadNativeModule} returned null. */
export function nativeLoadError(): unknown {
  return loadError;
}

/**
 * The native media socket of one worker: one UDP port, ICE-lite, DTLS and SRTP in the addon, on the JS thread
 * (no threads, no hand-offs). Dispatches each decrypted packet and connection event to its {@link NativeLink}.
 */
export class NativeMedia {
  readonly endpoint: NativeEndpoint;
  /** Host candidates written into every answer. */
  readonly candidates: ReadonlyArray<{ ip: string; port: number }>;
  readonly #recv = Buffer.alloc(2048);
  readonly #links = new Map<number, NativeLink>();

  constructor(mod: NativeModule, listenIp: string, port: number, announcedAddress: string | undefined) {
    const recv = this.#recv;
    this.endpoint = new mod.Endpoint({
      ip: listenIp,
      port,
      recvBuffer: recv,
      onPacket: (id, len) => this.#links.get(id)?._onPacket(recv.subarray(0, len)),
      onEvent: (id, event) => this.#links.get(id)?._onEvent(event),
    });
    this.candidates = hostCandidates(listenIp, announcedAddress).map((ip) => ({ ip, port: this.endpoint.port }));
  }

  /** @internal */
  _register(id: number, link: NativeLink): void {
    this.#links.set(id, link);
  }

  /** @internal */
  _unregister(id: number): void {
    this.#links.delete(id);
    this.endpoint.closeConnection(id);
  }

  close(): void {
    for (const link of [...this.#links.values()]) link.close();
    this.endpoint.close();
  }
}

/**
 * The addresses clients can reach us at: the announced one when set; else the bound address; for a wildcard bind,
 * every interface address of that family (non-loopback first, as libdatachannel listed them).
 */
export function hostCandidates(listenIp: string, announced: string | undefined): string[] {
  if (announced) return [announced];
  if (listenIp !== '0.0.0.0' && listenIp !== '::') return [listenIp];
  const v6 = listenIp === '::';
  const external: string[] = [];
  const internal: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family === 'IPv6' && (!v6 || a.address.toLowerCase().startsWith('fe80'))) continue;
      (a.internal ? internal : external).push(a.address);
    }
  }
  const all = [...external, ...internal];
  return all.length > 0 ? all : [v6 ? '::1' : '127.0.0.1'];
}
