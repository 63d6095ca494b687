// ESM entry: the addon built by `node-gyp rebuild` (npm install).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const native = require('./build/Release/convene_media.node');

export const Endpoint = native.Endpoint;
export const EVENT_ICE_CONNECTED = native.EVENT_ICE_CONNECTED;
export const EVENT_PATH_CHANGED = native.EVENT_PATH_CHANGED;
export const EVENT_DTLS_CONNECTED = native.EVENT_DTLS_CONNECTED;
export const EVENT_FAILED = native.EVENT_FAILED;
export const EVENT_CLOSED = native.EVENT_CLOSED;
/** Not part of the API: bytes in use in the C heap (glibc mallinfo2), for bench/memory.mjs. */
export const _mallocInUse = native._mallocInUse;
export default native;
