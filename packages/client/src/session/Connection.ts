import type { ConnectionInfo, Role } from '@convene/protocol';

/** SDK-internal: refresh a Connection from the server's view of it. */
export const kApply = Symbol('apply');

/**
 * A client connected to the session (the reference's Connection), plus the
 * sessions guide's standing: display name, token role, host and manager flags.
 */
export class Connection {
  /** Unique id of this connection in the session. */
  readonly connectionId: string;
  /** When the connection joined, ms since epoch. */
  readonly creationTime: number;
  /** Connection data from the token (`data` claim), '' if none. */
  readonly data: string;
  /** `user_identity` from the token, '' if none. */
  readonly userIdentity: string;
  /** Token role. */
  readonly role: Role;
  #userName: string;
  #isHost: boolean;
  #isManager: boolean;

  /** SDK-internal: Connection objects come from the session. */
  constructor(info: ConnectionInfo) {
    this.connectionId = info.connectionId;
    this.creationTime = info.creationTime;
    this.data = info.data ?? '';
    this.userIdentity = info.userIdentity ?? '';
    this.role = info.role;
    this.#userName = info.userName;
    this.#isHost = info.isHost;
    this.#isManager = info.isManager;
  }

  /** Alias of `connectionId`. */
  get id(): string {
    return this.connectionId;
  }

  /** Display name. */
  get userName(): string {
    return this.#userName;
  }

  /** Holds the host role of the session. */
  get isHost(): boolean {
    return this.#isHost;
  }

  /** Is a manager (co-host) of the session. */
  get isManager(): boolean {
    return this.#isManager;
  }

  /** Apply fresh info; returns the properties that changed with their old values. */
  [kApply](info: ConnectionInfo): { property: 'userName' | 'isHost' | 'isManager'; oldValue: unknown; newValue: unknown }[] {
    const changes: { property: 'userName' | 'isHost' | 'isManager'; oldValue: unknown; newValue: unknown }[] = [];
    if (info.userName !== this.#userName) {
      changes.push({ property: 'userName', oldValue: this.#userName, newValue: info.userName });
      this.#userName = info.userName;
    }
    if (info.isHost !== this.#isHost) {
      changes.push({ property: 'isHost', oldValue: this.#isHost, newValue: info.isHost });
      this.#isHost = info.isHost;
    }
    if (info.isManager !== this.#isManager) {
      changes.push({ property: 'isManager', oldValue: this.#isManager, newValue: info.isManager });
      this.#isManager = info.isManager;
    }
    return changes;
  }

  toJSON(): ConnectionInfo {
    return {
      connectionId: this.connectionId,
      creationTime: this.creationTime,
      data: this.data,
      userName: this.#userName,
      userIdentity: this.userIdentity,
      role: this.role,
      isHost: this.#isHost,
      isManager: this.#isManager,
    };
  }
}
