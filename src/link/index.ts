export * from './link.js';
export * from './pcap.js';
export * from './pcap-link.js';
export * from './memory.js';
export * from './loopback.js';
export * from './link-conformance.js';
export * from './impaired-link.js';
