import type { DisconnectReason, JoinedResult, ResumedResult, ServerEvent } from '@convene/protocol';
import type { ConveneError } from '../errors.js';

/** Events of the SignalClient (SDK-internal: the Session maps them to public events). */
export const SignalClientEvent = {
  /** The connect request succeeded (emitted synchronously, before any later frame). */
  Joined: 'joined',
  /** A sequenced server event, exactly once and in order. */
  Event: 'event',
  /** The socket dropped; the client is trying to resume. */
  Reconnecting: 'reconnecting',
  /** Resumed; missed frames are being replayed, unprocessed requests resent. */
  Reconnected: 'reconnected',
  /** The connection is over for good (not emitted after a local `disconnect()`). */
  Closed: 'closed',
} as const;

export type SignalClientEvents = {
  joined: [JoinedResult];
  event: [ServerEvent];
  reconnecting: [];
  reconnected: [ResumedResult];
  closed: [{ reason: DisconnectReason; error?: ConveneError }];
};
