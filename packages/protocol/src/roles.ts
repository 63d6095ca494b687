/** Token roles. `role_type` 1 maps to `host`, 0 to `publisher`. */
export type Role = 'subscriber' | 'publisher' | 'moderator' | 'host';
export const ROLES: readonly Role[] = ['subscriber', 'publisher', 'moderator', 'host'];

/**
 * What a connection may do. The boolean `can*` names and the numeric (1/0)
 * `forceDisconnect`/`forceUnpublish`/`publish`/`subscribe` mirror OpenTok's
 * Capabilities object; the rest cover the sessions guide's host privileges.
 */
export interface Capabilities {
  canPublish: boolean;
  canSubscribe: boolean;
  canForceMute: boolean;
  canForceDisconnect: boolean;
  canForceUnpublish: boolean;
  /** 1 if the connection may call forceDisconnect(), else 0. */
  forceDisconnect: 0 | 1;
  /** 1 if the connection may call forceUnpublish(), else 0. */
  forceUnpublish: 0 | 1;
  /** 1 if the connection may publish, else 0. */
  publish: 0 | 1;
  /** 1 if the connection may subscribe, else 0. */
  subscribe: 0 | 1;
  /** Change another user's display name. */
  canRename: boolean;
  /** Transfer the host role. */
  canMakeHost: boolean;
  /** Promote to / revoke manager. */
  canManageManagers: boolean;
  /** Remove a participant (forceDisconnect under the guide's name). */
  canRemoveUser: boolean;
  /** Lock / unlock screen sharing. */
  canLockShare: boolean;
  /** End the session for everyone. */
  canEndSession: boolean;
  /** Mute a user's audio, ask them to unmute. */
  canMuteUser: boolean;
}

/** A connection's standing: its token role plus what it holds in the session now. */
export interface Standing {
  role: Role;
  isHost: boolean;
  isManager: boolean;
}

/**
 * Compute capabilities from a standing. The single source of truth used by the
 * server to authorise and by clients to expose `session.capabilities`.
 *
 * - subscriber: subscribe only.
 * - publisher: publish and subscribe.
 * - moderator (OpenTok): publish, subscribe, forceDisconnect, forceUnpublish, force mute.
 * - manager (sessions guide): publisher + remove users, rename, mute/unmute, lock share.
 * - host (sessions guide): everything, including transfer host, managers, end session.
 */
export function capabilitiesFor(s: Standing): Capabilities {
  const host = s.isHost;
  const manager = !host && s.isManager;
  const moderator = s.role === 'moderator';
  const canPublish = s.role !== 'subscriber' || host || manager;
  const canForceDisconnect = host || manager || moderator;
  const canForceUnpublish = host || moderator;
  const canForceMute = host || manager || moderator;
  const bit = (b: boolean): 0 | 1 => (b ? 1 : 0);
  return {
    canPublish,
    canSubscribe: true,
    canForceMute,
    canForceDisconnect,
    canForceUnpublish,
    forceDisconnect: bit(canForceDisconnect),
    forceUnpublish: bit(canForceUnpublish),
    publish: bit(canPublish),
    subscribe: 1,
    canRename: host || manager,
    canMakeHost: host,
    canManageManagers: host,
    canRemoveUser: canForceDisconnect,
    canLockShare: host || manager,
    canEndSession: host,
    canMuteUser: canForceMute,
  };
}
