export { connect, parseSocketAddress, socketApiError } from './connect.js';
export type { HasSyscalls, Socket, SocketAddress, SocketInfo, SocketOptions } from './connect.js';
