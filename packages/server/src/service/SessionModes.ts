import { randomBytes } from 'node:crypto';
import { normalizeSessionName, type MediaMode } from '@convene/protocol';

/** Most sessions whose media mode is remembered (only `relayed` ones are stored: `routed` is the default). */
export const MAX_RELAYED_SESSIONS = 100_000;

/** Why a session could not be created. */
export class SessionModeError extends Error {
  constructor(
    readonly status: 400 | 409 | 429,
    message: string,
  ) {
    super(message);
    this.name = 'SessionModeError';
  }
}

/**
 * Media modes of sessions created through `POST /v1/sessions`. A session is created on its first
 * join; this remembers, for a name created ahead, whether its media is relayed peer to peer.
 * Names are compared like tokens (case-insensitively).
 */
export class SessionModes {
  readonly #relayed = new Set<string>();

  /** The mode of a session name (routed unless it was created relayed). */
  modeOf(sessionId: string): MediaMode {
    return this.#relayed.has(sessionId.toLowerCase()) ? 'relayed' : 'routed';
  }

  /**
   * Create (or confirm) a session: a new random id without a name. `isLive` tells whether a session
   * with that name is running now: its mode cannot change then (409).
   */
  create(name: string | undefined, mode: MediaMode, isLive: (sessionId: string) => boolean): { sessionId: string; mediaMode: MediaMode } {
    let id: string;
    if (name === undefined) {
      id = 's_' + randomBytes(12).toString('hex');
    } else {
      const n = normalizeSessionName(name);
      if (!n.ok) throw new SessionModeError(400, `name: ${n.message}`);
      id = n.value;
    }
    const current = this.modeOf(id);
    if (name !== undefined && isLive(id)) {
      if (current !== mode) throw new SessionModeError(409, `Session ${JSON.stringify(id)} is live with mediaMode ${current}; its mode cannot change while anyone is in it`);
      return { sessionId: id, mediaMode: mode };
    }
    if (mode === 'relayed') {
      if (!this.#relayed.has(id) && this.#relayed.size >= MAX_RELAYED_SESSIONS)
        throw new SessionModeError(429, `At most ${MAX_RELAYED_SESSIONS} relayed sessions can be registered`);
      this.#relayed.add(id);
    } else this.#relayed.delete(id);
    return { sessionId: id, mediaMode: mode };
  }
}
