import { networkInterfaces } from 'node:os';
import type { IceServerOption } from './iceServers.js';
import { parseIceUrl, probeIceServer } from './turnProbe.js';

/** Outcome of {@link detectPublicIp}. */
export type PublicIpDetection =
  | { kind: 'none'; why: string }
  | { kind: 'local'; address: string; via: string }
  | { kind: 'public'; address: string; via: string }
  | { kind: 'failed'; via: string; message: string };

/**
 * The address this host appears as, asked of the configured STUN/TURN servers (a STUN Binding request
 * over UDP; TURN servers answer it too). `public` when it is not an address of a local interface —
 * the server is behind NAT, and that address should be announced in the SFU's candidates.
 */
export async function detectPublicIp(iceServers: readonly IceServerOption[] | undefined, timeoutMs = 2000): Promise<PublicIpDetection> {
  const urls = (iceServers ?? []).flatMap((s) => (Array.isArray(s.urls) ? s.urls : [s.urls]));
  const target = urls.map((u) => parseIceUrl(u)).find((u) => u.transport === 'udp');
  if (!target) return { kind: 'none', why: 'no STUN/TURN server over UDP is configured' };
  const via = `stun:${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
  const r = await probeIceServer(via, { timeoutMs });
  if (!r.ok || !r.mapped) return { kind: 'failed', via, message: r.ok ? 'no mapped address in the answer' : r.message };
  const address = r.mapped.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const local = Object.values(networkInterfaces())
    .flat()
    .some((i) => i?.address === address);
  return { kind: local ? 'local' : 'public', address, via };
}
