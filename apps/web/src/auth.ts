/**
 * Where the app gets a token.
 *
 * - Dev mode (`npm start` without credentials): the server answers `GET /dev/token`, and the join form
 *   asks it for a token (`POST /dev/token { sessionName, userName, role }`).
 * - Production: `/dev/token` does not exist. The embedding backend hands the app a token, by one of:
 *   1. the URL: `/?session=<name>&token=<jwt>[&name=<display name>]`;
 *   2. a global set before the app's script: `window.conveneConfig = { sessionName, token, userName?, serverUrl? }`;
 *   3. `postMessage` from the parent window: `{ type: 'convene:token', sessionName, token, userName? }`
 *      (the app posts `{ type: 'convene:ready' }` to its parent when it waits for one).
 */

/** Roles the dev form offers (the server's ROLES). */
export const DEV_ROLES = ['host', 'publisher', 'moderator', 'subscriber'] as const;
export type DevRole = (typeof DEV_ROLES)[number];

/** A token and what goes with it. */
export interface Grant {
  token: string;
  sessionName: string;
  userName?: string;
  serverUrl?: string;
  apiKey?: string;
}

/** Global an embedding page may set before loading the app. */
declare global {
  interface Window {
    conveneConfig?: Partial<Grant>;
  }
}

/** Whether the server runs in dev mode (offers `/dev/token`). */
export async function detectDevMode(): Promise<boolean> {
  try {
    const r = await fetch('/dev/token', { cache: 'no-store' });
    if (!r.ok) return false;
    const body = (await r.json()) as { devMode?: boolean };
    return body.devMode === true;
  } catch {
    return false;
  }
}

/** Ask the dev server for a token. */
export async function fetchDevToken(sessionName: string, userName: string, role: DevRole): Promise<Grant> {
  const r = await fetch('/dev/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sessionName, userName, role }),
  });
  const body = (await r.json().catch(() => ({}))) as { token?: string; apiKey?: string; serverUrl?: string; error?: { message?: string } };
  if (!r.ok || !body.token) throw new Error(body.error?.message ?? `The server refused a token (HTTP ${r.status})`);
  return { token: body.token, sessionName, userName, apiKey: body.apiKey, serverUrl: body.serverUrl };
}

/** A token given by the URL or by the embedding page's global, if any. */
export function givenGrant(): Grant | null {
  const q = new URLSearchParams(location.search);
  const token = q.get('token');
  const sessionName = q.get('session');
  if (token && sessionName) {
    // Keep the token out of the address bar, history and referrers once read.
    history.replaceState(null, '', location.pathname);
    return { token, sessionName, userName: q.get('name') ?? undefined };
  }
  const g = window.conveneConfig;
  if (g?.token && g.sessionName) return { token: g.token, sessionName: g.sessionName, userName: g.userName, serverUrl: g.serverUrl };
  return null;
}

/** Wait for the parent window to post a token (production embedding). Returns a stop function. */
export function listenForGrant(onGrant: (g: Grant) => void): () => void {
  const onMessage = (e: MessageEvent): void => {
    const d = e.data as Partial<Grant> & { type?: string };
    if (e.source !== window.parent || d?.type !== 'convene:token' || typeof d.token !== 'string' || typeof d.sessionName !== 'string') return;
    onGrant({ token: d.token, sessionName: d.sessionName, userName: typeof d.userName === 'string' ? d.userName : undefined });
  };
  window.addEventListener('message', onMessage);
  if (window.parent !== window) window.parent.postMessage({ type: 'convene:ready' }, '*');
  return () => window.removeEventListener('message', onMessage);
}
