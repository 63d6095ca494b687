import type { Router } from './Router.js';

/** Single-process Router: this node owns every session. */
export class LocalRouter implements Router {
  readonly nodeId: string;
  readonly #owned = new Set<string>();

  constructor(nodeId: string) {
    this.nodeId = nodeId;
  }

  async claimSession(sessionId: string): Promise<string> {
    this.#owned.add(sessionId);
    return this.nodeId;
  }

  async releaseSession(sessionId: string): Promise<void> {
    this.#owned.delete(sessionId);
  }

  async ownerOf(sessionId: string): Promise<string | null> {
    return this.#owned.has(sessionId) ? this.nodeId : null;
  }

  async close(): Promise<void> {
    this.#owned.clear();
  }
}
