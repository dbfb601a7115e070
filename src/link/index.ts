export * from './link.js';
export * from './pcap.js';
export * from './pcap-link.js';
