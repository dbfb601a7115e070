export * from './ring-buffer.js';
export * from './assembler.js';
export * from './packet-queue.js';
export * from './buffer-pool.js';
