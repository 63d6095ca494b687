import { ErrorCode, ErrorName, type WireError } from '@convene/protocol';

/**
 * Base class of every error the SDK hands to an application. `name` is the
 * reference's error name (`OT_NOT_CONNECTED`, `OT_PERMISSION_DENIED`, ...),
 * `code` its numeric code, `cause` the underlying error if there was one.
 */
export class ConveneError extends Error {
  override readonly name: string;
  readonly code: number;

  constructor(name: string, code: number, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = name;
    this.code = code;
  }

  /** An error object received from the server. */
  static fromWire(e: WireError): ConveneError {
    switch (e.name) {
      case ErrorName.AuthenticationError:
        return new AuthenticationError(e.message, e.code);
      case ErrorName.PermissionDenied:
        return new PermissionDeniedError(e.message, e.code);
      case ErrorName.NotConnected:
        return new NotConnectedError(e.message, e.code);
      default:
        return new ConveneError(e.name, e.code, e.message);
    }
  }

  /** Plain-object form (`{ name, code, message }`) for logs and the wire. */
  toJSON(): WireError {
    return { name: this.name, code: this.code, message: this.message };
  }
}

/** The token was rejected, or the session could not be joined with it. */
export class AuthenticationError extends ConveneError {
  constructor(message: string, code: number = ErrorCode.AuthenticationError) {
    super(ErrorName.AuthenticationError, code, message);
  }
}

/** The connection's role does not allow the action. */
export class PermissionDeniedError extends ConveneError {
  constructor(message: string, code: number = ErrorCode.PermissionDenied) {
    super(ErrorName.PermissionDenied, code, message);
  }
}

/** The session is not connected (or the connection was lost and the call may not wait for it). */
export class NotConnectedError extends ConveneError {
  constructor(message = 'Not connected to the session', code: number = ErrorCode.NotConnected) {
    super(ErrorName.NotConnected, code, message);
  }
}

/** Could not reach the server or the server closed the socket before the session was joined. */
export class ConnectError extends ConveneError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorName.ConnectFailed, ErrorCode.ConnectFailed, message, options);
  }

  /** The server did not answer in time. */
  static timeout(ms: number): ConnectError {
    return new ConnectError(`No answer from the server within ${ms} ms`);
  }
}

/** A method was called in a state that does not allow it (e.g. join() before init()). */
export class InvalidStateError extends ConveneError {
  constructor(message: string) {
    super(ErrorName.InvalidState, ErrorCode.InvalidParameter, message);
  }
}

/** An argument was invalid. */
export class InvalidParameterError extends ConveneError {
  constructor(message: string, code: number = ErrorCode.InvalidParameter) {
    super(ErrorName.InvalidParameter, code, message);
  }
}
