export * from './link.js';
export * from './pcap.js';
export * from './pcap-link.js';
export * from './memory.js';
export { MemoryCounter } from './memory-port.js';
export type { MemoryAttachOptions, MemoryNetworkOptions } from './memory-switch.js';
export * from './loopback.js';
export * from './link-conformance.js';
export * from './impaired-link.js';
