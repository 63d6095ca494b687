import type { MediaMode } from '@convene/protocol';
import { ConveneApi, type ConveneApiOptions } from './ConveneApi.js';

/** Options of {@link createSession}. */
export interface CreateSessionOptions extends ConveneApiOptions {
  /** `'routed'` (default): media through the server's SFU; `'relayed'`: peer to peer between clients. */
  mediaMode?: MediaMode;
  /** Session id to use (matched case-insensitively, returned lower-cased); generated when absent. */
  name?: string;
}

/**
 * Create a session on a Convene server (`POST /v1/sessions`) and resolve with its id.
 *
 * @example
 * ```ts
 * import { createSession, createToken } from '@convene/server-sdk';
 * const { sessionId } = await createSession({ serverUrl, apiKey, apiSecret, mediaMode: 'relayed' });
 * const token = await createToken({ apiKey, apiSecret, sessionId, role: 'publisher' });
 * ```
 */
export async function createSession(options: CreateSessionOptions): Promise<{ sessionId: string; mediaMode: MediaMode }> {
  if (typeof options !== 'object' || options === null) throw new TypeError('createSession needs { serverUrl, apiKey, apiSecret, mediaMode? }');
  const { mediaMode, name, ...api } = options;
  return new ConveneApi(api).createSession({ mediaMode, name });
}
