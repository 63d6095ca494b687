import type { Role } from './roles.js';

/**
 * Claims of a Convene access token (HS256 JWT signed with the API secret).
 * `iss` (or `app_key`) is the API key; `tpc` the session name.
 */
export interface TokenClaims {
  iss?: string;
  app_key?: string;
  /** Session name this token opens (case-insensitive). */
  tpc: string;
  role?: Role;
  /** Zoom-style role: 1 host, 0 publisher. Used when `role` is absent. */
  role_type?: 0 | 1;
  user_identity?: string;
  /** Default display name. */
  user_name?: string;
  /** Connection data visible to everyone as `connection.data`. */
  data?: string;
  /** Seconds since epoch; required. */
  exp: number;
  iat?: number;
  nbf?: number;
  jti?: string;
}

/** Claims of a server (REST) token: `ist: 'project'`, no session. */
export interface ProjectTokenClaims {
  iss: string;
  ist: 'project';
  exp: number;
  iat?: number;
  jti?: string;
}

/** Resolve the effective role of a token. */
export function roleOf(claims: Pick<TokenClaims, 'role' | 'role_type'>): Role {
  if (claims.role) return claims.role;
  if (claims.role_type === 1) return 'host';
  return 'publisher';
}
