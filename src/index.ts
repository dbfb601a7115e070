/**
 * sockstack: the public, runtime-agnostic API. Nothing but re-exports here.
 */
export * from './wire/index.js';
export * from './time/index.js';
export * from './link/index.js';
export * from './errno/index.js';
export { Counters } from './stats/counters.js';
