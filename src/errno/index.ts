export * from './errno.js';
export * from './socket-error.js';
