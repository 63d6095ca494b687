import { limits, normalizeSessionName, ROLES, roleOf, type Role, type TokenClaims } from '@convene/protocol';
import { checkTimeClaims, verifyHs256 } from './jwt.js';

/** Clock skew allowed for `nbf` and `iat`; `exp` is strict. */
export const CLOCK_SKEW_SEC = 30;

/** What a verified client token grants. */
export interface VerifiedToken {
  apiKey: string;
  sessionId: string;
  role: Role;
  userIdentity: string;
  userName: string | undefined;
  data: string;
}

/**
 * Verify a client token for joining `sessionName`. Every refusal has its own
 * message; the caller sends it as OT_AUTHENTICATION_ERROR and closes 4001.
 */
export function verifyClientToken(
  token: string,
  sessionName: string,
  secretFor: (apiKey: string) => string | undefined,
  now: number = Date.now(),
): { ok: true; value: VerifiedToken } | { ok: false; message: string } {
  const v = verifyHs256(token, secretFor);
  if (!v.ok) return v;
  const c = v.payload as Partial<Record<keyof TokenClaims, unknown>>;
  const timeErr = checkTimeClaims(v.payload, Math.floor(now / 1000), CLOCK_SKEW_SEC);
  if (timeErr) return { ok: false, message: timeErr };
  if (typeof c.tpc !== 'string') return { ok: false, message: 'Token has no session (tpc)' };
  const tpc = normalizeSessionName(c.tpc);
  const joining = normalizeSessionName(sessionName);
  if (!tpc.ok || !joining.ok || tpc.value !== joining.value) return { ok: false, message: 'Token is for a different session' };
  if (c.role !== undefined && !(typeof c.role === 'string' && (ROLES as readonly string[]).includes(c.role)))
    return { ok: false, message: `Token role must be one of ${ROLES.join(', ')}` };
  if (c.role_type !== undefined && c.role_type !== 0 && c.role_type !== 1) return { ok: false, message: 'Token role_type must be 0 or 1' };
  if (c.data !== undefined && (typeof c.data !== 'string' || c.data.length > limits.connectionDataMaxLength))
    return { ok: false, message: `Token data must be a string of at most ${limits.connectionDataMaxLength} characters` };
  if (c.user_identity !== undefined && typeof c.user_identity !== 'string') return { ok: false, message: 'Token user_identity must be a string' };
  if (c.user_name !== undefined && typeof c.user_name !== 'string') return { ok: false, message: 'Token user_name must be a string' };
  return {
    ok: true,
    value: {
      apiKey: v.issuer as string,
      sessionId: tpc.value,
      role: roleOf({ role: c.role as Role | undefined, role_type: c.role_type as 0 | 1 | undefined }),
      userIdentity: (c.user_identity as string | undefined) ?? '',
      userName: c.user_name as string | undefined,
      data: (c.data as string | undefined) ?? '',
    },
  };
}

/** Verify a REST bearer token: `{ iss: apiKey, ist: 'project', exp }`. Returns an error message or null. */
export function verifyProjectToken(token: string, secretFor: (apiKey: string) => string | undefined, now: number = Date.now()): string | null {
  const v = verifyHs256(token, secretFor);
  if (!v.ok) return v.message;
  if (v.payload.ist !== 'project') return "Token is not a project token (ist must be 'project')";
  return checkTimeClaims(v.payload, Math.floor(now / 1000), CLOCK_SKEW_SEC);
}
