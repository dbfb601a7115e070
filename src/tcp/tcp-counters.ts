/**
 * TCP's counter names (Linux `netstat -s`, Tcp: and TcpExt:). A leaf module
 * of its own so that TcpProtocol and the helpers it uses (tcp-icmp-error.ts)
 * can all count without importing one another.
 */

/** Counter names, after Linux's `netstat -s` Tcp: and TcpExt: lines; drops are `tcp.drop.<reason>`. */
export const TcpCounter = {
  ActiveOpens: 'tcp.active-opens',
  PassiveOpens: 'tcp.passive-opens',
  AttemptFails: 'tcp.attempt-fails',
  EstabResets: 'tcp.estab-resets',
  InSegs: 'tcp.in-segs',
  OutSegs: 'tcp.out-segs',
  RetransSegs: 'tcp.retrans-segs',
  InErrs: 'tcp.in-errs',
  InCsumErrors: 'tcp.in-csum-errors',
  OutRsts: 'tcp.out-rsts',
  ListenOverflows: 'tcp.listen-overflows',
  ListenDrops: 'tcp.listen-drops',
  OutOfWindowIcmps: 'tcp.out-of-window-icmps',
  TimeWaitFreed: 'tcp.time-wait-freed',
  /** Linux TCPACKSkippedTimeWait: an ACK from TIME-WAIT held back by tcp_invalid_ratelimit. */
  AckSkippedTimeWait: 'tcp.ack-skipped-time-wait',
  /** Linux PAWSEstabRejected (here counted for TIME-WAIT records). */
  PawsEstabRejected: 'tcp.paws-estab-rejected',
  SendErrors: 'tcp.send-errors',
  /** GRO (gro.ts), as ethtool's rx-gro-packets: merged segments of two wire segments or more handed to TCP input. */
  GroPackets: 'tcp.gro-packets',
  /** GRO: the wire segments in those merged segments. */
  GroMerged: 'tcp.gro-merged',
  /** Linux TCPHPHits: segments that took the header-prediction fast path (header-prediction.ts); unlike Linux's, it also takes window updates. */
  FastPath: 'tcp.fast-path',
} as const;
