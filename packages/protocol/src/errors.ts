/**
 * Error names and codes. Names and codes follow the OpenTok reference where it
 * has them; Convene-specific ones use the same `OT_` style and HTTP-like codes.
 */
export const ErrorName = {
  AuthenticationError: 'OT_AUTHENTICATION_ERROR',
  InvalidSessionId: 'OT_INVALID_SESSION_ID',
  ConnectFailed: 'OT_CONNECT_FAILED',
  NotConnected: 'OT_NOT_CONNECTED',
  InvalidParameter: 'OT_INVALID_PARAMETER',
  PermissionDenied: 'OT_PERMISSION_DENIED',
  NotFound: 'OT_NOT_FOUND',
  UnexpectedServerResponse: 'OT_UNEXPECTED_SERVER_RESPONSE',
  InvalidPasscode: 'OT_INVALID_PASSCODE',
  RateLimited: 'OT_RATE_LIMITED',
  BadRequest: 'OT_BAD_REQUEST',
  TooLarge: 'OT_MESSAGE_TOO_LARGE',
  SessionEnded: 'OT_SESSION_ENDED',
  AlreadyConnected: 'OT_ALREADY_CONNECTED',
  ResumeFailed: 'OT_RESUME_FAILED',
  InvalidState: 'OT_INVALID_STATE',
  /** A per-connection resource limit (streams, subscriptions) is reached. */
  LimitExceeded: 'OT_LIMIT_EXCEEDED',
} as const;
export type ErrorName = (typeof ErrorName)[keyof typeof ErrorName];

/** Numeric codes. 1xxx/2xxx from the OpenTok reference; 4xx for signal and request shape errors. */
export const ErrorCode = {
  AuthenticationError: 1004,
  InvalidSessionId: 1005,
  ConnectFailed: 1006,
  NotConnected: 1010,
  InvalidParameter: 1011,
  PublishPermissionDenied: 1500,
  ForceDisconnectDenied: 1530,
  ForceUnpublishNotFound: 1535,
  PermissionDenied: 1520,
  InternalError: 2000,
  // signal() codes from the reference
  SignalInvalid: 400,
  SignalNotFound: 404,
  SignalTooLarge: 413,
  SignalNotConnected: 500,
  // transport level
  BadRequest: 400,
  NotFound: 404,
  TooLarge: 413,
  RateLimited: 429,
  /** OT_LIMIT_EXCEEDED: too many streams or subscriptions on one connection. */
  LimitExceeded: 429,
} as const;

/** The error object carried on the wire in `{type:'error'}` frames. */
export interface WireError {
  name: ErrorName | string;
  code: number;
  message: string;
}

/** WebSocket close codes the server uses. */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  /** Authentication failed or connect timed out. */
  AuthFailed: 4001,
  /** Connection was force-disconnected, or the session ended: do not resume. */
  Terminated: 4002,
  /** Replaced by a resumed socket. */
  Replaced: 4003,
  /** Rate limit exceeded repeatedly. */
  RateLimited: 4029,
} as const;
