export * from './duration.js';
export * from './instant.js';
export type * from './clock.js';
export * from './manual-clock.js';
export * from './system-clock.js';
