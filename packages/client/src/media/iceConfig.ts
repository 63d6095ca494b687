import type { IceServer } from '@convene/protocol';

/** `session.setIceConfig()`'s argument (the reference's IceConfig). */
export interface IceConfig {
  /** `'all'` (default): the server's STUN/TURN servers and `customServers`; `'custom'`: `customServers` only. */
  includeServers?: 'all' | 'custom';
  /** `'all'` (default): every candidate type; `'relay'`: only through TURN. */
  transportPolicy?: 'all' | 'relay';
  /** Your own TURN (or STUN) servers, W3C `RTCIceServer` shape. */
  customServers?: IceServer[];
}

/** A validated IceConfig with its defaults filled in. */
export interface ResolvedIceConfig {
  includeServers: 'all' | 'custom';
  transportPolicy: 'all' | 'relay';
  customServers: IceServer[];
}

/** What a peer connection is created with. */
export interface EffectiveIce {
  iceServers: IceServer[];
  iceTransportPolicy: 'all' | 'relay';
}

const URL_RE = /^(stun|stuns|turn|turns):[^\s]+$/;

/**
 * Check an IceConfig and fill in its defaults. Throws a TypeError naming the offending property, as
 * `new RTCPeerConnection()` would only later and less clearly.
 */
export function parseIceConfig(config: unknown): ResolvedIceConfig {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new TypeError('setIceConfig(): pass an object { includeServers, transportPolicy, customServers }');
  const c = config as Record<string, unknown>;
  const includeServers = c.includeServers ?? 'all';
  if (includeServers !== 'all' && includeServers !== 'custom')
    throw new TypeError(`setIceConfig(): includeServers must be 'all' or 'custom', got ${JSON.stringify(includeServers)?.slice(0, 40)}`);
  const transportPolicy = c.transportPolicy ?? 'all';
  if (transportPolicy !== 'all' && transportPolicy !== 'relay')
    throw new TypeError(`setIceConfig(): transportPolicy must be 'all' or 'relay', got ${JSON.stringify(transportPolicy)?.slice(0, 40)}`);
  const list = c.customServers ?? [];
  if (!Array.isArray(list)) throw new TypeError('setIceConfig(): customServers must be an array of { urls, username?, credential? }');
  const customServers = list.map((s: unknown, i: number): IceServer => {
    const where = `setIceConfig(): customServers[${i}]`;
    if (typeof s !== 'object' || s === null || Array.isArray(s)) throw new TypeError(`${where} must be an object { urls, username?, credential? }`);
    const o = s as Record<string, unknown>;
    const urls = typeof o.urls === 'string' ? [o.urls] : o.urls;
    if (!Array.isArray(urls) || urls.length === 0) throw new TypeError(`${where}.urls must be a URL string or a non-empty array of them`);
    for (const u of urls) {
      if (typeof u !== 'string' || !URL_RE.test(u)) throw new TypeError(`${where}.urls: ${JSON.stringify(u)?.slice(0, 80)} is not a stun:, turn: or turns: URL`);
    }
    if (o.username !== undefined && typeof o.username !== 'string') throw new TypeError(`${where}.username must be a string`);
    if (o.credential !== undefined && typeof o.credential !== 'string') throw new TypeError(`${where}.credential must be a string`);
    if ((urls as string[]).some((u) => u.startsWith('turn')) && (o.username === undefined || o.credential === undefined))
      throw new TypeError(`${where}: a TURN server needs username and credential`);
    const out: IceServer = { urls: typeof o.urls === 'string' ? o.urls : [...(urls as string[])] };
    if (o.username !== undefined) out.username = o.username as string;
    if (o.credential !== undefined) out.credential = o.credential as string;
    return out;
  });
  if (transportPolicy === 'relay' && includeServers === 'custom' && !customServers.some((s) => [s.urls].flat().some((u) => u.startsWith('turn'))))
    throw new TypeError("setIceConfig(): transportPolicy 'relay' with includeServers 'custom' needs at least one TURN server in customServers");
  return { includeServers, transportPolicy, customServers };
}

/** The servers and policy for a new peer connection: the server's (unless `'custom'`) and the custom ones. */
export function effectiveIce(serverProvided: readonly IceServer[], config: ResolvedIceConfig | null): EffectiveIce {
  if (!config) return { iceServers: [...serverProvided], iceTransportPolicy: 'all' };
  const iceServers = config.includeServers === 'custom' ? [...config.customServers] : [...serverProvided, ...config.customServers];
  return { iceServers, iceTransportPolicy: config.transportPolicy };
}
