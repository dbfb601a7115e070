export * from './icmp-error.js';
export * from './rate-limit.js';
export * from './ping-socket.js';
export * from './error-queue.js';
