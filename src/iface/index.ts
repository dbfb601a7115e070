export * from './interface.js';
export * from './neighbour-cache.js';
export * from './route-table.js';
export * from './fragmentation.js';
export * from './reassembly.js';
export * from './path-mtu.js';
