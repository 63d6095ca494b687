import { EventDispatcher } from '../EventDispatcher.js';
import { LogLevel, setLogger, setLogLevel, type Logger, type LogLevelName } from '../logger.js';
import { SDK_VERSION, Session, type SessionOptions } from '../session/Session.js';
import { ExceptionEvent, type OTEvents } from './events.js';
import { setExceptionSink } from './exceptions.js';

/**
 * The global OT object of the reference: creates sessions and dispatches
 * `exception` events (connect failures 1004/1006, forceDisconnect denied 1530,
 * publish denied 1500 once media exists).
 */
export class OTClass extends EventDispatcher<OTEvents> {
  /** Log levels for `setLogLevel()`. */
  readonly NONE = LogLevel.NONE;
  readonly ERROR = LogLevel.ERROR;
  readonly WARN = LogLevel.WARN;
  readonly INFO = LogLevel.INFO;
  readonly LOG = LogLevel.LOG;
  readonly DEBUG = LogLevel.DEBUG;
  /** SDK version. */
  readonly version = SDK_VERSION;

  constructor() {
    super('OT');
    setExceptionSink((e: ExceptionEvent) => this.dispatch(e));
  }

  /**
   * Create a Session object for a session id; call `connect()` on it to join.
   * @example
   * const session = OT.initSession(apiKey, 'standup', { serverUrl: 'http://localhost:7880' });
   */
  initSession(apiKey: string, sessionId: string, options?: SessionOptions): Session {
    return new Session(apiKey, sessionId, options);
  }

  /** Set the SDK's log level: a name (`'debug'`) or a number (`OT.DEBUG`). */
  setLogLevel(level: LogLevelName | number): void {
    setLogLevel(level);
  }

  /** Send the SDK's log lines to your logger (pino-compatible: `(obj, msg)`); `null` restores the console. */
  setLogger(logger: Logger | null): void {
    setLogger(logger);
  }
}

/** The OT object. */
export const OT = new OTClass();

/**
 * Create a Session object (same as `OT.initSession`).
 * @example
 * const session = initSession(apiKey, 'standup', { serverUrl: 'http://localhost:7880' });
 * await session.connect(token);
 */
export function initSession(apiKey: string, sessionId: string, options?: SessionOptions): Session {
  return OT.initSession(apiKey, sessionId, options);
}
