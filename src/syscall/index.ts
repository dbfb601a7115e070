export { constants } from './constants.js';
export type { Constants } from './constants.js';
export * from './socket-handle.js';
export * from './sockopt.js';
export * from './fd-table.js';
export * from './sockaddr.js';
export * from './syscalls.js';
export * from './stack-syscalls.js';
