import { ErrorCode, ErrorName } from '@convene/protocol';

/**
 * A failed REST call. For answers from the server, `status` is the HTTP status and
 * `name`/`code`/`message` come from its `{ error: { name, code, message } }` body
 * (e.g. 404 `OT_NOT_FOUND`). When the server could not be reached or did not answer
 * in time, `status` is 0, `name` is `OT_CONNECT_FAILED` and `timedOut` tells which.
 */
export class ConveneApiError extends Error {
  /** Wire error name such as `OT_AUTHENTICATION_ERROR` or `OT_NOT_FOUND`. */
  override readonly name: string;
  /** HTTP status, or 0 when no response arrived. */
  readonly status: number;
  /** Numeric error code from the server (OpenTok-style), or the HTTP status when the body had none. */
  readonly code: number;
  /** True when the request was abandoned after the client's timeout. */
  readonly timedOut: boolean;
  /** HTTP method and URL of the failed request. */
  readonly request: string;

  constructor(init: { status: number; name: string; code: number; message: string; request: string; timedOut?: boolean; cause?: unknown }) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = init.name;
    this.status = init.status;
    this.code = init.code;
    this.request = init.request;
    this.timedOut = init.timedOut ?? false;
  }

  /** The server could not be reached (DNS, refused, reset). */
  static network(request: string, cause: unknown): ConveneApiError {
    const why = cause instanceof Error ? (cause.cause instanceof Error ? cause.cause.message : cause.message) : String(cause);
    return new ConveneApiError({
      status: 0,
      name: ErrorName.ConnectFailed,
      code: ErrorCode.ConnectFailed,
      message: `${request} failed: could not reach the Convene server (${why})`,
      request,
      cause,
    });
  }

  /** No response within the timeout. */
  static timeout(request: string, timeoutMs: number, cause: unknown): ConveneApiError {
    return new ConveneApiError({
      status: 0,
      name: ErrorName.ConnectFailed,
      code: ErrorCode.ConnectFailed,
      message: `${request} timed out after ${timeoutMs} ms`,
      request,
      timedOut: true,
      cause,
    });
  }
}
