/**
 * @convene/server: the Convene signaling and media server.
 *
 * @example
 * import { startServer } from '@convene/server';
 * const server = await startServer({ port: 0, apiKey: 'key', apiSecret: 'secret', logLevel: 'silent' });
 * await server.close();
 */
export { startServer, SERVER_VERSION, DEFAULT_RTC_PORT, type ServerOptions, type ConveneServer } from './service/startServer.js';
export type { MediaTestHooks, SubscriberRef } from './service/SfuMediaPlane.js';
export type { LogLevel } from './util/log.js';
export { START_ENV_DEFAULTS, withStartEnvDefaults } from './startEnv.js';
