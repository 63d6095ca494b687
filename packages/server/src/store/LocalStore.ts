import type { ParticipantRecord, SessionPatch, SessionRecord, SessionStore } from './SessionStore.js';

interface Entry {
  session: SessionRecord;
  participants: Map<string, ParticipantRecord>;
}

/** In-memory SessionStore: the single-process default. Stores copies, never live domain objects. */
export class LocalStore implements SessionStore {
  readonly #sessions = new Map<string, Entry>();

  async loadSession(sessionId: string): Promise<{ session: SessionRecord; participants: ParticipantRecord[] } | null> {
    const e = this.#sessions.get(sessionId);
    if (!e) return null;
    return { session: { ...e.session }, participants: [...e.participants.values()].map(copyParticipant) };
  }

  async createSession(record: SessionRecord): Promise<void> {
    this.#sessions.set(record.sessionId, { session: { ...record }, participants: new Map() });
  }

  async updateSession(sessionId: string, patch: SessionPatch): Promise<void> {
    const e = this.#sessions.get(sessionId);
    if (e) Object.assign(e.session, patch);
  }

  async deleteSession(sessionId: string): Promise<void> {
    this.#sessions.delete(sessionId);
  }

  async putParticipant(sessionId: string, record: ParticipantRecord): Promise<void> {
    this.#sessions.get(sessionId)?.participants.set(record.info.connectionId, copyParticipant(record));
  }

  async removeParticipant(sessionId: string, connectionId: string): Promise<void> {
    this.#sessions.get(sessionId)?.participants.delete(connectionId);
  }

  async listSessions(): Promise<string[]> {
    return [...this.#sessions.keys()];
  }

  async close(): Promise<void> {
    this.#sessions.clear();
  }
}

function copyParticipant(r: ParticipantRecord): ParticipantRecord {
  return { ...r, info: { ...r.info } };
}
