/**
 * Decides which node owns a session. With one process every session is local;
 * a cluster implementation places sessions on nodes and relays sockets.
 */
export interface Router {
  /** This node's id. */
  readonly nodeId: string;
  /** Claim a session for this node if nobody owns it; returns the owning node's id. */
  claimSession(sessionId: string): Promise<string>;
  /** Release a session this node owned (it ended). */
  releaseSession(sessionId: string): Promise<void>;
  /** The node owning a session, or null. */
  ownerOf(sessionId: string): Promise<string | null>;
  close(): Promise<void>;
}
