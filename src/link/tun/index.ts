export { openTun, TunLink } from './tun-link.js';
export type { TunOptions } from './tun-link.js';
export { TunError, checkTunName, tunErrorMessage, TUN_NAME_MAX } from './tun-error.js';
export type { TunErrorDetails } from './tun-error.js';
