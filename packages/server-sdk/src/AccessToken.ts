import type { Role } from '@convene/protocol';
import { buildTokenClaims, DEFAULT_TOKEN_TTL_SECONDS } from './createToken.js';
import { signHs256 } from './jwt.js';

/** Options of the {@link AccessToken} constructor. */
export interface AccessTokenOptions {
  /** Lifetime: seconds, or a duration string such as `'90s'`, `'10m'`, `'6h'`, `'7d'`. Default 24 h, at most 30 days. */
  ttl?: number | string;
  /** Your application's id for the user (`user_identity`). */
  identity?: string;
  /** Default display name (`user_name`). */
  name?: string;
  /** Connection data every participant sees as `connection.data` (at most 1000 characters). */
  data?: string;
  /** Earliest time the token is accepted (`nbf`): a Date or seconds since the epoch. */
  notBefore?: Date | number;
}

/** What a token allows: one session, with one role. */
export interface SessionGrant {
  /** Session name (`tpc`). */
  session: string;
  /** Defaults to `publisher` unless `roleType` is given. */
  role?: Role;
  /** Zoom-style role: 1 host, 0 publisher. */
  roleType?: 0 | 1;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Parse `ttl` into whole seconds; range checks happen when the token is built. */
function ttlSeconds(ttl: number | string): number {
  if (typeof ttl === 'number') return ttl;
  if (typeof ttl === 'string') {
    const m = /^\s*(\d+)\s*([smhd]?)\s*$/.exec(ttl);
    if (m) return Number(m[1]) * (UNIT_SECONDS[m[2] || 's'] ?? 1);
  }
  throw new TypeError(`ttl must be a number of seconds or a duration like '10m', '6h', '7d'; got ${JSON.stringify(ttl)}`);
}

/**
 * Builder for session tokens, in the style of LiveKit's `AccessToken`.
 * Equivalent to {@link createToken}; use whichever reads better.
 *
 * @example
 * ```ts
 * import { AccessToken } from '@convene/server-sdk';
 * const at = new AccessToken(apiKey, apiSecret, { identity: 'user-42', name: 'Ada', ttl: '2h' });
 * at.addGrant({ session: 'Weekly sync', role: 'host' });
 * const token = await at.toJwt();
 * ```
 */
export class AccessToken {
  readonly #apiKey: string;
  readonly #apiSecret: string;
  /** Lifetime in seconds or as a duration string (`'10m'`). */
  ttl: number | string;
  /** `user_identity` claim. */
  identity: string | undefined;
  /** `user_name` claim. */
  name: string | undefined;
  /** `data` claim (connection data). */
  data: string | undefined;
  /** `nbf` claim. */
  notBefore: Date | number | undefined;
  #grant: SessionGrant | undefined;

  constructor(apiKey: string, apiSecret: string, options: AccessTokenOptions = {}) {
    if (typeof apiKey !== 'string' || apiKey.length === 0) throw new TypeError('apiKey must be a non-empty string');
    if (typeof apiSecret !== 'string' || apiSecret.length === 0) throw new TypeError('apiSecret must be a non-empty string');
    this.#apiKey = apiKey;
    this.#apiSecret = apiSecret;
    this.ttl = options.ttl ?? DEFAULT_TOKEN_TTL_SECONDS;
    this.identity = options.identity;
    this.name = options.name;
    this.data = options.data;
    this.notBefore = options.notBefore;
  }

  /** Grant access to one session with a role; a later grant replaces an earlier one (a token opens one session). */
  addGrant(grant: SessionGrant): this {
    if (typeof grant !== 'object' || grant === null) throw new TypeError('addGrant() needs { session, role? }');
    this.#grant = { ...grant };
    return this;
  }

  /** The granted session name, if any. */
  get sessionId(): string | undefined {
    return this.#grant?.session;
  }

  /** The granted role, if any. */
  get role(): Role | undefined {
    return this.#grant?.role;
  }

  /** Sign the token. Rejects with TypeError when no session was granted or an option is invalid. */
  async toJwt(): Promise<string> {
    if (!this.#grant) throw new TypeError('AccessToken has no session: call addGrant({ session, role }) first');
    const claims = buildTokenClaims({
      apiKey: this.#apiKey,
      apiSecret: this.#apiSecret,
      sessionId: this.#grant.session,
      role: this.#grant.role,
      roleType: this.#grant.roleType,
      userIdentity: this.identity,
      userName: this.name,
      data: this.data,
      ttlSeconds: ttlSeconds(this.ttl),
      notBefore: this.notBefore,
    });
    return signHs256(claims, this.#apiSecret);
  }
}
