export * from './stack.js';
export type * from './transport.js';
export * from './port-allocator.js';
export type { PingOptions, PingResult } from './ping.js';
