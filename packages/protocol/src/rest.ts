import type { ConnectionInfo, MediaMode } from './messages.js';

/*
 * REST API (JSON over HTTP), authenticated with the API key and secret:
 *   Authorization: Bearer <HS256 JWT { iss: apiKey, ist: 'project', iat, exp }>
 * or
 *   Authorization: Basic base64(apiKey:apiSecret)
 * Errors: `{ error: { name, code, message } }` with an HTTP status.
 * The OpenAPI description lives in docs/openapi.yaml.
 */

/** Base path of the REST API. */
export const REST_BASE = '/v1';

export interface SessionSummary {
  sessionId: string;
  createdAt: number;
  connectionCount: number;
  hostId: string | null;
  hasPasscode: boolean;
  shareLocked: boolean;
  forceMuteActive: boolean;
}

/**
 * POST /v1/sessions: create a session ahead of its first join. Without `name` the server generates a
 * session id; with one, that name (lower-cased) is the id. `mediaMode` defaults to `routed`.
 * 200 `{ sessionId, mediaMode }`; 400 invalid; 409 the named session is live with another mode.
 */
export interface CreateSessionBody {
  name?: string;
  mediaMode?: MediaMode;
}

/** Response of POST /v1/sessions. */
export interface CreateSessionResponse {
  sessionId: string;
  mediaMode: MediaMode;
}

/** GET /v1/sessions */
export interface ListSessionsResponse {
  sessions: SessionSummary[];
}

/** GET /v1/sessions/{sessionId}/connections */
export interface ListConnectionsResponse {
  sessionId: string;
  connections: ConnectionInfo[];
}

/**
 * POST /v1/sessions/{sessionId}/signal (everyone) or
 * POST /v1/sessions/{sessionId}/connections/{connectionId}/signal (one connection).
 * 204 on success; 400/413 invalid, 404 no such session or connection.
 */
export interface SignalBody {
  type?: string;
  data?: string;
}
/* DELETE /v1/sessions/{sessionId}/connections/{connectionId}: force disconnect, 204.
 * DELETE /v1/sessions/{sessionId}: end the session, 204. */
