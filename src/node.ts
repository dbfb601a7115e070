/**
 * sockstack/node: the parts that need Node.js (files, and later the TUN link).
 * Everything of the runtime-agnostic core is re-exported too, so Node users
 * can import from one place.
 */
export * from './index.js';
// Shadows the core's Stack: the same host, plus `stack.net` and `stack.dgram`.
export { Stack } from './node/node-stack.js';
export { createPcapFile } from './node/pcap-file.js';
export type { PcapFileHandle, PcapFileOptions } from './node/pcap-file.js';
export { openTun, TunLink, TunError } from './link/tun/index.js';
export type { TunOptions } from './link/tun/index.js';
export { createNet, NetSocket, NetServer } from './node/net.js';
export type {
  Net,
  NetStack,
  NetSocketOptions,
  NetConnectOptions,
  NetServerOptions,
  NetListenOptions,
  NetAddressInfo,
} from './node/net.js';
export { createDgram, DgramSocket } from './node/dgram.js';
export type {
  Dgram,
  DgramStack,
  DgramSocketType,
  DgramSocketOptions,
  DgramBindOptions,
  DgramAddressInfo,
  DgramRemoteInfo,
  DgramMessage,
  DgramSendCallback,
  DgramMessageListener,
} from './node/dgram.js';
export { nodeTls, TlsHandshakeError } from './node/tls.js';
export type { NodeTlsOptions } from './node/tls.js';
