/**
 * The BSD socket constants, with Linux's numeric values (x86_64/arm64
 * generic ABI: include/linux/socket.h, include/uapi/asm-generic/socket.h,
 * include/uapi/linux/in.h, include/uapi/linux/tcp.h, asm-generic/fcntl.h,
 * asm-generic/poll.h). Linux values, not BSD's, so that numbers printed by a
 * program or compared against getsockopt results mean what they mean on the
 * system sockstack meets most.
 *
 * Exported as one frozen object so user code reads like C:
 * `import { constants as C } from 'sockstack'; s.socket(C.AF_INET, C.SOCK_DGRAM, 0)`.
 */
export const constants = Object.freeze({
  // Address families (include/linux/socket.h).
  AF_UNSPEC: 0,
  AF_UNIX: 1,
  AF_INET: 2,
  AF_INET6: 10,
  AF_PACKET: 17,
  PF_UNSPEC: 0,
  PF_INET: 2,
  PF_INET6: 10,

  // Socket types (include/linux/net.h) and the flags socket() accepts ORed into the type.
  SOCK_STREAM: 1,
  SOCK_DGRAM: 2,
  SOCK_RAW: 3,
  SOCK_RDM: 4,
  SOCK_SEQPACKET: 5,
  SOCK_NONBLOCK: 0o4000,
  SOCK_CLOEXEC: 0o2000000,

  // Protocols (include/uapi/linux/in.h).
  IPPROTO_IP: 0,
  IPPROTO_ICMP: 1,
  IPPROTO_IGMP: 2,
  IPPROTO_TCP: 6,
  IPPROTO_UDP: 17,
  IPPROTO_IPV6: 41,
  IPPROTO_RAW: 255,

  // Special addresses, as strings because sockaddr objects carry strings.
  INADDR_ANY: '0.0.0.0',
  INADDR_BROADCAST: '255.255.255.255',
  INADDR_LOOPBACK: '127.0.0.1',

  // Socket-level options (asm-generic/socket.h).
  SOL_SOCKET: 1,
  SO_DEBUG: 1,
  SO_REUSEADDR: 2,
  SO_TYPE: 3,
  SO_ERROR: 4,
  SO_DONTROUTE: 5,
  SO_BROADCAST: 6,
  SO_SNDBUF: 7,
  SO_RCVBUF: 8,
  SO_KEEPALIVE: 9,
  SO_OOBINLINE: 10,
  SO_NO_CHECK: 11,
  SO_PRIORITY: 12,
  SO_LINGER: 13,
  SO_BSDCOMPAT: 14,
  SO_REUSEPORT: 15,
  SO_RCVLOWAT: 18,
  SO_SNDLOWAT: 19,
  SO_RCVTIMEO: 20,
  SO_SNDTIMEO: 21,
  SO_BINDTODEVICE: 25,
  SO_TIMESTAMP: 29,
  SO_ACCEPTCONN: 30,
  SO_SNDBUFFORCE: 32,
  SO_RCVBUFFORCE: 33,
  SO_PROTOCOL: 38,
  SO_DOMAIN: 39,

  // IPPROTO_IP options (include/uapi/linux/in.h).
  IP_TOS: 1,
  IP_TTL: 2,
  IP_HDRINCL: 3,
  IP_OPTIONS: 4,
  IP_PKTINFO: 8,
  IP_MTU_DISCOVER: 10,
  IP_RECVERR: 11,
  IP_RECVTTL: 12,
  IP_RECVTOS: 13,
  IP_MTU: 14,
  IP_FREEBIND: 15,
  IP_MULTICAST_IF: 32,
  IP_MULTICAST_TTL: 33,
  IP_MULTICAST_LOOP: 34,
  IP_ADD_MEMBERSHIP: 35,
  IP_DROP_MEMBERSHIP: 36,
  IP_MULTICAST_ALL: 49,
  IP_PMTUDISC_DONT: 0,
  IP_PMTUDISC_WANT: 1,
  IP_PMTUDISC_DO: 2,
  IP_PMTUDISC_PROBE: 3,
  IP_PMTUDISC_INTERFACE: 4,
  IP_PMTUDISC_OMIT: 5,

  // IPPROTO_TCP options (include/uapi/linux/tcp.h).
  TCP_NODELAY: 1,
  TCP_MAXSEG: 2,
  TCP_CORK: 3,
  TCP_KEEPIDLE: 4,
  TCP_KEEPINTVL: 5,
  TCP_KEEPCNT: 6,
  TCP_SYNCNT: 7,
  TCP_LINGER2: 8,
  TCP_DEFER_ACCEPT: 9,
  TCP_WINDOW_CLAMP: 10,
  TCP_INFO: 11,
  TCP_QUICKACK: 12,
  TCP_CONGESTION: 13,
  TCP_USER_TIMEOUT: 18,
  TCP_NOTSENT_LOWAT: 25,

  // send/recv flags (include/linux/socket.h).
  MSG_OOB: 0x1,
  MSG_PEEK: 0x2,
  MSG_DONTROUTE: 0x4,
  MSG_CTRUNC: 0x8,
  MSG_TRUNC: 0x20,
  MSG_DONTWAIT: 0x40,
  MSG_EOR: 0x80,
  MSG_CONFIRM: 0x800,
  MSG_WAITALL: 0x100,
  MSG_ERRQUEUE: 0x2000,
  MSG_NOSIGNAL: 0x4000,
  MSG_MORE: 0x8000,
  MSG_CMSG_CLOEXEC: 0x40000000,

  // struct sock_extended_err ee_origin (include/uapi/linux/errqueue.h), for IP_RECVERR.
  SO_EE_ORIGIN_NONE: 0,
  SO_EE_ORIGIN_LOCAL: 1,
  SO_EE_ORIGIN_ICMP: 2,

  // shutdown() how.
  SHUT_RD: 0,
  SHUT_WR: 1,
  SHUT_RDWR: 2,

  // fcntl() (asm-generic/fcntl.h).
  F_DUPFD: 0,
  F_GETFD: 1,
  F_SETFD: 2,
  F_GETFL: 3,
  F_SETFL: 4,
  FD_CLOEXEC: 1,
  O_RDONLY: 0,
  O_WRONLY: 1,
  O_RDWR: 2,
  O_NONBLOCK: 0o4000,

  // poll() events (asm-generic/poll.h).
  POLLIN: 0x001,
  POLLPRI: 0x002,
  POLLOUT: 0x004,
  POLLERR: 0x008,
  POLLHUP: 0x010,
  POLLNVAL: 0x020,
  POLLRDNORM: 0x040,
  POLLRDBAND: 0x080,
  POLLWRNORM: 0x100,
  POLLWRBAND: 0x200,
  POLLRDHUP: 0x2000,

  // Limits.
  /** Linux's SOMAXCONN since 5.4: listen() backlogs are capped at this. */
  SOMAXCONN: 4096,
  /** The largest UDP payload over IPv4: 65535 - 20 (IP header) - 8 (UDP header). */
  UDP_MAX_PAYLOAD: 65507,
} as const);

export type Constants = typeof constants;
