import { createHmac } from 'node:crypto';
import type { IceServer } from '@convene/protocol';

/**
 * One STUN/TURN server in the server's configuration. Either static credentials (`username` +
 * `credential`, or none for STUN), or `secret`: the TURN REST API shared-secret scheme (coturn's
 * `use-auth-secret` / `static-auth-secret`), where the server mints a short-lived username
 * `<expiry unix seconds>:<connectionId>` and credential `base64(HMAC-SHA1(secret, username))` for
 * every connection, so no long-lived TURN password ever reaches a browser.
 */
export interface IceServerOption {
  /** `stun:host[:port]`, `turn:host[:port][?transport=udp|tcp]` or `turns:host[:port][?transport=tcp]`. */
  urls: string | string[];
  /** Static TURN user name. */
  username?: string;
  /** Static TURN password. */
  credential?: string;
  /** Shared secret of the TURN REST API scheme (instead of username/credential). */
  secret?: string;
  /** Lifetime of minted credentials, seconds. Default 86 400 (one day). Only with `secret`. */
  ttlSeconds?: number;
}

/** Default lifetime of credentials minted with a shared secret (the TURN REST API draft suggests a day). */
export const DEFAULT_TURN_TTL_SECONDS = 86_400;

const URL_RE = /^(stun|stuns|turn|turns):(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?(?:\?transport=(udp|tcp))?$/;

/** Mints the ICE servers of each connection from the validated configuration. */
export interface IceServerProvider {
  /** Number of configured servers. */
  readonly size: number;
  /** The servers for one connection; short-lived credentials expire `ttlSeconds` after `nowMs`. */
  forConnection(connectionId: string, nowMs?: number): IceServer[];
}

/**
 * Validate ICE server options (TypeError naming the bad field) and return a provider.
 *
 * @example
 * const ice = createIceServerProvider([
 *   { urls: 'stun:turn.example.com:3478' },
 *   { urls: ['turn:turn.example.com:3478?transport=udp', 'turns:turn.example.com:5349'], secret: process.env.TURN_SECRET },
 * ]);
 * ice.forConnection('c_abc'); // [{ urls: 'stun:…' }, { urls: [...], username: '1767312000:c_abc', credential: '…' }]
 */
export function createIceServerProvider(options: readonly IceServerOption[] | undefined): IceServerProvider {
  if (options === undefined) return { size: 0, forConnection: () => [] };
  if (!Array.isArray(options)) throw new TypeError('iceServers must be an array of { urls, username?, credential?, secret?, ttlSeconds? }');
  const servers = options.map((o, i) => validate(o, `iceServers[${i}]`));
  return {
    size: servers.length,
    forConnection(connectionId: string, nowMs: number = Date.now()): IceServer[] {
      return servers.map((s) => {
        if (s.secret === undefined) return s.wire;
        return { urls: s.wire.urls, ...turnRestCredentials(s.secret, connectionId, s.ttlSeconds, nowMs) };
      });
    },
  };
}

/**
 * Credentials of the TURN REST API scheme: username `<expiry>:<userId>` (expiry in Unix seconds),
 * credential `base64(HMAC-SHA1(secret, username))` — what coturn checks with `use-auth-secret`.
 */
export function turnRestCredentials(secret: string, userId: string, ttlSeconds: number, nowMs: number = Date.now()): { username: string; credential: string } {
  const username = `${Math.floor(nowMs / 1000) + ttlSeconds}:${userId}`;
  return { username, credential: createHmac('sha1', secret).update(username).digest('base64') };
}

interface ValidServer {
  wire: IceServer;
  secret?: string;
  ttlSeconds: number;
}

function validate(o: unknown, at: string): ValidServer {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new TypeError(`${at} must be an object { urls, ... }`);
  const r = o as Record<string, unknown>;
  const urls = typeof r.urls === 'string' ? [r.urls] : r.urls;
  if (!Array.isArray(urls) || urls.length === 0) throw new TypeError(`${at}.urls must be a URL string or a non-empty array of them`);
  let turn = false;
  for (const u of urls) {
    const m = typeof u === 'string' ? URL_RE.exec(u) : null;
    if (!m) throw new TypeError(`${at}.urls: ${JSON.stringify(u)} is not a stun:, turn: or turns: URL (e.g. turn:turn.example.com:3478?transport=udp)`);
    if (m[3] !== undefined && (Number(m[3]) < 1 || Number(m[3]) > 65535)) throw new TypeError(`${at}.urls: port out of range in ${u}`);
    if ((m[1] === 'stun' || m[1] === 'stuns') && m[4] !== undefined) throw new TypeError(`${at}.urls: a stun: URL takes no ?transport (${u})`);
    if (m[1] === 'turn' || m[1] === 'turns') turn = true;
  }
  for (const k of ['username', 'credential', 'secret'] as const)
    if (r[k] !== undefined && (typeof r[k] !== 'string' || r[k].length === 0)) throw new TypeError(`${at}.${k} must be a non-empty string`);
  const secret = r.secret as string | undefined;
  if (secret !== undefined && (r.username !== undefined || r.credential !== undefined))
    throw new TypeError(`${at}: give either secret (short-lived credentials) or username + credential (static), not both`);
  if ((r.username === undefined) !== (r.credential === undefined)) throw new TypeError(`${at}: give both username and credential, or neither`);
  if (turn && secret === undefined && r.username === undefined)
    throw new TypeError(`${at}: a TURN server needs credentials: username + credential, or the shared secret of its use-auth-secret setting`);
  if (!turn && (secret !== undefined || r.username !== undefined)) throw new TypeError(`${at}: credentials are only for turn:/turns: URLs`);
  const ttl = r.ttlSeconds ?? DEFAULT_TURN_TTL_SECONDS;
  if (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl < 60) throw new TypeError(`${at}.ttlSeconds must be a whole number of seconds, at least 60`);
  if (r.ttlSeconds !== undefined && secret === undefined) throw new TypeError(`${at}.ttlSeconds only applies with secret`);
  const wire: IceServer = { urls: typeof r.urls === 'string' ? r.urls : [...(urls as string[])] };
  if (r.username !== undefined) {
    wire.username = r.username as string;
    wire.credential = r.credential as string;
  }
  return secret === undefined ? { wire, ttlSeconds: ttl } : { wire, secret, ttlSeconds: ttl };
}

/**
 * ICE servers from environment-style settings (the CLI's flags and env vars): `stunUrls`, `turnUrls`
 * (comma-separated lists) with either `turnSecret` (+ `turnTtlSeconds`) or `turnUsername` + `turnCredential`.
 */
export function iceServersFromSettings(s: {
  stunUrls?: string;
  turnUrls?: string;
  turnSecret?: string;
  turnUsername?: string;
  turnCredential?: string;
  turnTtlSeconds?: string;
}): IceServerOption[] | undefined {
  const list = (v: string | undefined): string[] =>
    (v ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x.length > 0);
  const out: IceServerOption[] = [];
  const stun = list(s.stunUrls);
  if (stun.length > 0) out.push({ urls: stun });
  const turn = list(s.turnUrls);
  if (turn.length === 0) {
    if (s.turnSecret !== undefined || s.turnUsername !== undefined || s.turnCredential !== undefined)
      throw new TypeError('TURN credentials were given without a TURN URL (--turn-url / CONVENE_TURN_URLS)');
  } else {
    const t: IceServerOption = { urls: turn };
    if (s.turnSecret !== undefined) t.secret = s.turnSecret;
    if (s.turnUsername !== undefined) t.username = s.turnUsername;
    if (s.turnCredential !== undefined) t.credential = s.turnCredential;
    if (s.turnTtlSeconds !== undefined) {
      const n = Number(s.turnTtlSeconds);
      if (!Number.isSafeInteger(n)) throw new TypeError(`TURN credential lifetime must be a whole number of seconds, got ${JSON.stringify(s.turnTtlSeconds)}`);
      t.ttlSeconds = n;
    }
    out.push(t);
  }
  if (out.length === 0) return undefined;
  createIceServerProvider(out); // validate now, with the field names of the options
  return out;
}
