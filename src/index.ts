/**
 * sockstack: the public, runtime-agnostic API. Nothing but re-exports here.
 */
export * from './wire/index.js';
export * from './time/index.js';
export * from './random/index.js';
export * from './link/index.js';
export * from './errno/index.js';
export * from './iface/index.js';
export * from './icmp/index.js';
export * from './igmp/index.js';
export * from './stack/index.js';
export * from './sim/index.js';
export * from './syscall/index.js';
export * from './udp/index.js';
export * from './api/index.js';
export * from './tcp/index.js';
export { Counters } from './stats/counters.js';
