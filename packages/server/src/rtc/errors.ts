import { ErrorCode, ErrorName, type WireError } from '@convene/protocol';

/**
 * A domain error with the wire name and code the client sees. The service
 * layer turns it into an `error` response unchanged.
 */
export class RtcError extends Error {
  override readonly name: string;
  readonly code: number;

  constructor(name: string, code: number, message: string) {
    super(message);
    this.name = name;
    this.code = code;
  }

  /** The wire form of this error. */
  toWire(): WireError {
    return { name: this.name, code: this.code, message: this.message };
  }

  static from(e: WireError): RtcError {
    return new RtcError(e.name, e.code, e.message);
  }

  static permissionDenied(message: string, code: number = ErrorCode.PermissionDenied): RtcError {
    return new RtcError(ErrorName.PermissionDenied, code, message);
  }

  static notFound(message: string): RtcError {
    return new RtcError(ErrorName.NotFound, ErrorCode.NotFound, message);
  }

  static invalidParameter(message: string): RtcError {
    return new RtcError(ErrorName.InvalidParameter, ErrorCode.InvalidParameter, message);
  }

  static invalidPasscode(message: string): RtcError {
    return new RtcError(ErrorName.InvalidPasscode, ErrorCode.AuthenticationError, message);
  }

  static invalidSession(message: string): RtcError {
    return new RtcError(ErrorName.InvalidSessionId, ErrorCode.InvalidSessionId, message);
  }

  static invalidState(message: string): RtcError {
    return new RtcError(ErrorName.InvalidState, ErrorCode.InternalError, message);
  }
}
