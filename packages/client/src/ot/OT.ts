import { EventDispatcher } from '../EventDispatcher.js';
import { LogLevel, setLogger, setLogLevel, type Logger, type LogLevelName } from '../logger.js';
import { SDK_VERSION, Session, type SessionOptions } from '../session/Session.js';
import { checkScreenSharingCapability, checkSystemRequirements, getDevices, getUserMedia, unblockAudio } from '../media/browser/index.js';
import type { Publisher } from '../media/browser/Publisher.js';
import type { Completion, PublisherProperties, TargetElement } from '../media/browser/types.js';
import { initAnyPublisher } from '../media/initPublisher.js';
import type { NodePublisher, NodePublisherProperties } from '../media/node/NodePublisher.js';
import { ExceptionEvent, type OTEvents } from './events.js';
import { setExceptionSink } from './exceptions.js';

/**
 * The global OT object of the reference: creates sessions and dispatches
 * `exception` events (connect failures 1004/1006, forceDisconnect denied 1530,
 * publish denied 1500, media connection failed 1013), and captures media.
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

  /**
   * Capture the camera and microphone (or a screen with `videoSource: 'screen'`) and show the
   * self-view; pass the result to `session.publish()`. In Node, a publisher with synthetic
   * VP8/Opus sources (see `NodePublisherProperties`; the target is ignored).
   * @example
   * const publisher = OT.initPublisher('publisher', { width: 400, height: 300, name: "Bob's stream" });
   */
  initPublisher(target?: TargetElement | PublisherProperties, properties?: PublisherProperties | Completion, completionHandler?: Completion): Publisher;
  initPublisher(target: null | undefined | NodePublisherProperties, properties?: NodePublisherProperties | Completion, completionHandler?: Completion): NodePublisher;
  initPublisher(target?: unknown, properties?: unknown, completionHandler?: Completion): Publisher | NodePublisher {
    return initAnyPublisher(target as TargetElement, properties as PublisherProperties, completionHandler);
  }

  /** Cameras and microphones (browser). */
  readonly getDevices = getDevices;
  /** getUserMedia with Publisher-style properties (browser). */
  readonly getUserMedia = getUserMedia;
  /** Whether screen sharing is available (browser). */
  readonly checkScreenSharingCapability = checkScreenSharingCapability;
  /** 1 when this browser supports WebRTC, else 0. */
  readonly checkSystemRequirements = checkSystemRequirements;
  /** Resume subscribers' audio blocked by autoplay rules (call from a user gesture). */
  readonly unblockAudio = unblockAudio;

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
