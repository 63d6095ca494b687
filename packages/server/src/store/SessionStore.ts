import type { ConnectionInfo } from '@convene/protocol';

/** Durable part of a session: what a node that takes the session over needs. */
export interface SessionRecord {
  sessionId: string;
  createdAt: number;
  /** Set once; every later join must present it. */
  passcode: string | null;
  hostId: string | null;
  shareLocked: boolean;
  forceMuteActive: boolean;
  /** Per-session idle timeout chosen at join (minutes), null = server default. */
  idleTimeoutMins: number | null;
  /** Whether a host-role connection has ever joined (it may set the passcode). */
  hostRoleJoined: boolean;
}

/** Durable part of one connection. */
export interface ParticipantRecord {
  info: ConnectionInfo;
  /** Join order within the session (host promotion picks the earliest manager). */
  joinOrder: number;
  idleTimeoutMins: number | null;
}

/** Partial update of a session record. */
export type SessionPatch = Partial<Omit<SessionRecord, 'sessionId' | 'createdAt'>>;

/**
 * Where session state that must survive a node is kept. Writes are
 * write-through from the domain (which keeps the authoritative copy in memory
 * while it owns the session); reads happen when a node takes a session over.
 * Methods are granular so a 5,000-connection session never rewrites its
 * whole participant list on one join.
 */
export interface SessionStore {
  /** Load a session and its participants, or null if unknown. */
  loadSession(sessionId: string): Promise<{ session: SessionRecord; participants: ParticipantRecord[] } | null>;
  createSession(record: SessionRecord): Promise<void>;
  updateSession(sessionId: string, patch: SessionPatch): Promise<void>;
  deleteSession(sessionId: string): Promise<void>;
  putParticipant(sessionId: string, record: ParticipantRecord): Promise<void>;
  removeParticipant(sessionId: string, connectionId: string): Promise<void>;
  /** Ids of every known session. */
  listSessions(): Promise<string[]>;
  close(): Promise<void>;
}
