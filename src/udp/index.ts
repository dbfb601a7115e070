export * from './udp-socket.js';
export * from './udp-protocol.js';
