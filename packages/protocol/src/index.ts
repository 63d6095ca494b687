export * from './limits.js';
export * from './errors.js';
export * from './roles.js';
export * from './messages.js';
export * from './validate.js';
export * from './token.js';
export * from './rest.js';
export { TypedEmitter, type EventMap } from './TypedEmitter.js';
export * from './media.js';
