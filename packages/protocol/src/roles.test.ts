import { describe, expect, it } from 'vitest';
import { capabilitiesFor, type Role } from './roles.js';
import { roleOf } from './token.js';

const caps = (role: Role, isHost = false, isManager = false) => capabilitiesFor({ role, isHost, isManager });

describe('capabilitiesFor', () => {
  it('gives a subscriber subscribe only', () => {
    expect(caps('subscriber')).toMatchObject({ canPublish: false, publish: 0, canSubscribe: true, subscribe: 1, canForceDisconnect: false, canForceMute: false });
  });

  it('gives a publisher publish and subscribe but no moderation', () => {
    expect(caps('publisher')).toMatchObject({ canPublish: true, canForceDisconnect: false, forceDisconnect: 0, canForceUnpublish: false, canRename: false });
  });

  it('gives a moderator the OpenTok moderation rights but not the host privileges', () => {
    expect(caps('moderator')).toMatchObject({
      canForceDisconnect: true,
      forceDisconnect: 1,
      canForceUnpublish: true,
      forceUnpublish: 1,
      canForceMute: true,
      canMakeHost: false,
      canEndSession: false,
      canRename: false,
    });
  });

  it('gives a manager the sessions guide subset: remove, rename, mute, lock share', () => {
    expect(caps('host', false, true)).toMatchObject({
      canRemoveUser: true,
      canRename: true,
      canMuteUser: true,
      canLockShare: true,
      canMakeHost: false,
      canManageManagers: false,
      canEndSession: false,
      canForceUnpublish: false,
    });
  });

  it('gives the host every privilege', () => {
    const c = caps('host', true);
    for (const v of Object.values(c)) expect(v === true || v === 1).toBe(true);
  });

  it('lets a host-role token without the host seat act as a publisher', () => {
    expect(caps('host')).toMatchObject({ canPublish: true, canRename: false, canEndSession: false });
  });
});

describe('roleOf', () => {
  it('maps role_type 1 to host and 0 to publisher when role is absent', () => {
    expect(roleOf({ role_type: 1 })).toBe('host');
    expect(roleOf({ role_type: 0 })).toBe('publisher');
    expect(roleOf({})).toBe('publisher');
  });

  it('prefers an explicit role over role_type', () => {
    expect(roleOf({ role: 'subscriber', role_type: 1 })).toBe('subscriber');
  });
});
