export { connect, parseSocketAddress, socketApiError } from './connect.js';
export type { HasSyscalls, Socket, SocketAddress, SocketInfo, SocketOptions } from './connect.js';
export type { ByteStreams, TlsProvider, TlsSession, TlsStartOptions } from './tls-provider.js';
