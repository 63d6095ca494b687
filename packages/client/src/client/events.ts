import type { Role } from '@convene/protocol';

/** Names of the events a VideoClient emits. */
export const VideoClientEvent = {
  /** Users joined (others only; on join, everyone already there). Payload: Participant[]. */
  UserAdded: 'user-added',
  /** Users left. Payload: (Participant & { reason })[]. */
  UserRemoved: 'user-removed',
  /** A user's name or host/manager standing changed. Payload: ParticipantUpdate[]. */
  UserUpdated: 'user-updated',
  /** This client's connection state changed. Payload: ConnectionChange. */
  ConnectionChange: 'connection-change',
  /** A host or manager asks you to unmute your audio; call `unmuteAudio()` to accept. Payload: `{ by }`. */
  HostAskUnmuteAudio: 'host-ask-unmute-audio',
  /** A host or manager muted your audio. Payload: `{ action: 'muted', source: 'passive', by }`. */
  CurrentAudioChange: 'current-audio-change',
  /** Screen sharing was locked to the host or unlocked. Payload: `{ locked, by }`. */
  ShareLockChange: 'share-lock-change',
} as const;
export type VideoClientEvent = (typeof VideoClientEvent)[keyof typeof VideoClientEvent];

/** A user in the session, as the lifecycle facade shows it. */
export interface Participant {
  /** The user's connectionId. */
  userId: string;
  displayName: string;
  isHost: boolean;
  isManager: boolean;
  /** Token role. */
  role: Role;
  /** `user_identity` from the token, '' if none. */
  userIdentity: string;
  /** Connection data from the token, '' if none. */
  connectionData: string;
  /** When the user joined, ms since epoch. */
  joinedAt: number;
}

/** What changed for a user: `userId` plus the changed fields with their new values. */
export type ParticipantUpdate = Pick<Participant, 'userId'> & Partial<Pick<Participant, 'displayName' | 'isHost' | 'isManager'>>;

/** A user who left, and why (`clientDisconnected`, `forceDisconnected`, `networkDisconnected`, `sessionEnded`). */
export type RemovedParticipant = Participant & { reason: string };

export type ConnectionState = 'Connected' | 'Reconnecting' | 'Closed' | 'Fail';

/**
 * `connection-change` payload. Reasons for `Closed`: `clientDisconnected`
 * (you left), `sessionEnded` (the host ended it), `kicked` (removed by a
 * host/manager/moderator), `idleTimeout`; for `Fail`: `networkDisconnected`.
 */
export interface ConnectionChange {
  state: ConnectionState;
  reason?: string;
}

/** Listener argument tuples by event name. */
export type VideoClientEvents = {
  'user-added': [Participant[]];
  'user-removed': [RemovedParticipant[]];
  'user-updated': [ParticipantUpdate[]];
  'connection-change': [ConnectionChange];
  'host-ask-unmute-audio': [{ by: string }];
  'current-audio-change': [{ action: 'muted'; source: 'passive'; by: string }];
  'share-lock-change': [{ locked: boolean; by?: string }];
};
