/**
 * The typed syntax tree of a packetdrill script.
 *
 * The shapes follow packetdrill's own grammar (see
 * ../shared/conformance/packetdrill/SYNTAX.md) but are plain records so the
 * runner can also build them from packets it captured and print both sides
 * with the same printer. Every node that the runner may report on carries
 * the 1-based source `line` where it starts.
 *
 * Times are integer microseconds (the unit of src/time), converted from the
 * script's decimal seconds without going through floating point.
 */

/** `--name` or `--name=value` from the header of a script. */
export interface ScriptOption {
  readonly line: number;
  readonly name: string; // without the leading dashes
  /** The value as written (quotes removed), or null for a bare flag. */
  readonly value: string | null;
}

/** One end of a time range, or a plain time: `+0.1` is relative. */
export interface TimePoint {
  readonly relative: boolean;
  readonly usecs: number;
}

export type EventTime =
  | { readonly kind: 'absolute'; readonly usecs: number } // `0.1`
  | { readonly kind: 'relative'; readonly usecs: number } // `+0.1`
  | { readonly kind: 'any' } // `*`: whenever it happens
  | { readonly kind: 'range'; readonly start: TimePoint; readonly end: TimePoint }; // `+.1~+.2`

// ---------------------------------------------------------------------------
// Expressions (syscall arguments and return values)

export type Expression =
  | { readonly kind: 'ellipsis' } // `...`: don't care
  | { readonly kind: 'int'; readonly value: number; readonly hex: boolean }
  | { readonly kind: 'word'; readonly name: string } // a constant such as O_NONBLOCK, or NULL
  | { readonly kind: 'string'; readonly value: string; readonly ellipsis: boolean } // `"abc"` or `"abc"...`
  | { readonly kind: 'or'; readonly operands: readonly Expression[] } // `A|B|C`
  | { readonly kind: 'array'; readonly elements: readonly Expression[] } // `[1]`, `[]`
  | { readonly kind: 'struct'; readonly fields: readonly Expression[] } // `{fd=4, events=POLLIN}`, `{..., 40}`
  | { readonly kind: 'call'; readonly name: string; readonly args: readonly Expression[] } // `htons(80)`, `msg_iov(1)`
  | { readonly kind: 'assign'; readonly target: AssignTarget; readonly value: Expression }; // `fd=4`

export type AssignTarget =
  | { readonly kind: 'word'; readonly name: string }
  | { readonly kind: 'call'; readonly name: string; readonly args: readonly Expression[] };

// ---------------------------------------------------------------------------
// Packets

/** IP-level annotations: `[ect0]`, `(tos 0x2)`, `[ttl 64]`, `[id 5]`. */
export type Ecn = 'noecn' | 'ect0' | 'ect1' | 'ect01' | 'ce';

export interface IpInfo {
  readonly ecn?: Ecn;
  readonly tos?: number;
  readonly ttl?: number;
  readonly id?: number;
  readonly flowLabel?: number;
}

/** A TS value that may be a wildcard (`TS val * ecr *`). */
export type MaybeWild = number | '*';

export type TcpOptionSpec =
  | { readonly kind: 'nop' }
  | { readonly kind: 'eol' }
  | { readonly kind: 'mss'; readonly value: number }
  | { readonly kind: 'wscale'; readonly value: number }
  | { readonly kind: 'sackOK' }
  | { readonly kind: 'sack'; readonly blocks: readonly (readonly [number, number])[] }
  | { readonly kind: 'timestamp'; readonly val: MaybeWild; readonly ecr: MaybeWild }
  | { readonly kind: 'md5'; readonly digest: string }
  /** RFC 7413 fast open (`FO`, kind 34) or its experimental form (`FOEXP`, kind 254). */
  | { readonly kind: 'fastOpen'; readonly experimental: boolean; readonly cookie: string | null };

/** `seq:end(len)`: end is written out even though it is seq + len. */
export interface SeqSpec {
  readonly start: number;
  readonly end: number;
  readonly length: number;
}

export type Direction = '<' | '>'; // `<` inbound (injected), `>` outbound (expected)

export interface PacketBase {
  readonly line: number;
  readonly direction: Direction;
  readonly ip: IpInfo | null;
  /** Explicit `sport>dport`, rarely written. */
  readonly ports: { readonly src: number; readonly dst: number } | null;
}

export interface TcpPacketSpec extends PacketBase {
  readonly kind: 'tcp';
  /** Flag letters as written (`S`, `P`, `F`, `R`, `U`, `E`, `W`, ...), without the ACK dot. */
  readonly flags: string;
  /** The `.` that stands for ACK. */
  readonly ackFlag: boolean;
  readonly seq: SeqSpec;
  readonly ack: number | null;
  readonly window: number | null;
  readonly urgent: number | null;
  /** null: no `<...>` at all; 'any': `<...>`; else the list. */
  readonly options: readonly TcpOptionSpec[] | 'any' | null;
}

export interface UdpPacketSpec extends PacketBase {
  readonly kind: 'udp';
  readonly length: number;
}

export type IcmpEchoed =
  | { readonly kind: 'tcp'; readonly seq: SeqSpec } // `[5000:6000(1000)]`
  | { readonly kind: 'udp'; readonly length: number } // `[udp (100)]`
  | { readonly kind: 'raw'; readonly length: number }; // `[raw (100)]`

export interface IcmpPacketSpec extends PacketBase {
  readonly kind: 'icmp';
  readonly type: string; // `unreachable`, `packet_too_big`, ...
  readonly code: string | null; // `frag_needed`, `host_unreachable`, ...
  readonly mtu: number | null;
  readonly echoId: number | null;
  readonly echoed: IcmpEchoed | null;
}

export type PacketSpec = TcpPacketSpec | UdpPacketSpec | IcmpPacketSpec;

// ---------------------------------------------------------------------------
// Syscalls and the other actions

export interface SyscallSpec {
  readonly line: number;
  readonly name: string;
  readonly args: readonly Expression[];
  /** Set for blocking calls `+0...0.2 f()`: when the call must have returned (seconds, relative to the same base as the start). */
  readonly endUsecs: number | null;
  readonly result: Expression;
  readonly errno: string | null; // `EAGAIN`
  /** The text in parentheses after the result, as written (`Resource temporarily unavailable`). */
  readonly note: string | null;
}

export type Action =
  | { readonly kind: 'packet'; readonly packet: PacketSpec }
  | { readonly kind: 'syscall'; readonly call: SyscallSpec }
  /** A backquoted shell command (text between the backquotes). */
  | { readonly kind: 'command'; readonly line: number; readonly command: string }
  /** A python block (`%{ ... }%`), kept as opaque text. */
  | { readonly kind: 'code'; readonly line: number; readonly code: string };

export interface ScriptEvent {
  readonly line: number;
  /** null only for the untimed init/cleanup shell commands. */
  readonly time: EventTime | null;
  readonly action: Action;
}

export interface Script {
  readonly options: readonly ScriptOption[];
  readonly events: readonly ScriptEvent[];
}
