/**
 * @convene/server-sdk: create and verify Convene tokens, and call the REST API.
 * For your application's backend only: it needs the API secret.
 */

/** Create a session token (HS256 JWT); `createProjectToken` for REST auth; the TTL limits. */
export {
  createToken,
  createProjectToken,
  DEFAULT_TOKEN_TTL_SECONDS,
  MAX_TOKEN_TTL_SECONDS,
  DEFAULT_PROJECT_TOKEN_TTL_SECONDS,
  type CreateTokenOptions,
  type CreateProjectTokenOptions,
} from './createToken.js';
/** LiveKit-style builder for session tokens. */
export { AccessToken, type AccessTokenOptions, type SessionGrant } from './AccessToken.js';
/** Verify a token with the server's rules; errors say which rule failed. */
export {
  verifyToken,
  isProjectClaims,
  TokenVerificationError,
  type TokenErrorReason,
  type VerifyTokenOptions,
  type VerifiedClaims,
} from './verifyToken.js';
/** Typed REST client (also exported as `RestClient`). */
export { ConveneApi, RestClient, type ConveneApiOptions } from './ConveneApi.js';
/** Create a session (routed or relayed media) ahead of its first join. */
export { createSession, type CreateSessionOptions } from './createSession.js';
/** Error thrown by every failed REST call. */
export { ConveneApiError } from './ConveneApiError.js';
/** Wire types used in the SDK's signatures, re-exported for convenience. */
export type {
  Role,
  TokenClaims,
  ProjectTokenClaims,
  SessionSummary,
  ConnectionInfo,
  SignalBody,
  MediaMode,
  IceServer,
  CreateSessionBody,
  CreateSessionResponse,
} from '@convene/protocol';
/** Resolve a token's effective role (`role`, else `role_type` 1 → host, else publisher). */
export { roleOf } from '@convene/protocol';
