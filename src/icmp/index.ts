export * from './icmp-error.js';
export * from './rate-limit.js';
