import type { ConnectionInfo } from './messages.js';

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
