import { randomUUID } from 'node:crypto';
import { LocalStore } from '../store/LocalStore.js';
import type { SessionStore } from '../store/SessionStore.js';
import { LocalRouter } from './LocalRouter.js';
import type { Router } from './Router.js';

/** Options choosing the state backends. */
export interface BackendOptions {
  /** Redis URL for a cluster (not implemented yet: only the local backends exist). */
  redisUrl?: string;
  nodeId?: string;
}

/** The store and router a server runs with. */
export interface Backends {
  store: SessionStore;
  router: Router;
  kind: 'local';
  /** Set when the options asked for something this build cannot provide (the caller logs it). */
  warning?: string;
}

/**
 * The one place that chooses the state backends. Nothing else branches on
 * the deployment: the domain only sees the SessionStore and Router interfaces.
 */
export function createBackends(options: BackendOptions = {}): Backends {
  const local: Backends = { store: new LocalStore(), router: new LocalRouter(options.nodeId ?? randomUUID()), kind: 'local' };
  if (options.redisUrl) local.warning = 'Redis backends are not available in this version: running with in-memory state';
  return local;
}
