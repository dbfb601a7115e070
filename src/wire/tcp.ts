/**
 * TCP segments (RFC 9293 3.1) over IPv4; options live in tcp-options.ts.
 *
 * The repr keeps the raw fields (window unscaled, sequence numbers as uint32)
 * and the options in wire order, so a segment Linux sent re-emits byte for
 * byte. Interpreting them is protocol code's job.
 *
 * Zero-copy sending: `emitTcpHeader` writes the header and options only; with
 * a pseudo-header it leaves a partial checksum that
 * `finishTcpChecksum(header, payloadChunks)` completes (see emitTcpHeader).
 */
import { IpProtocol } from './ipv4.js';
import { formatIpv4 } from './address.js';
import type { Ipv4Address } from './address.js';
import { readU16, readU32, writeU16, writeU32 } from './bytes.js';
import { checksumAdd, checksumAddChunks, checksumAddRange, checksumFinish, checksumFold, checksumRangeValid, checksumValid, pseudoHeaderSum } from './checksum.js';
import { fail, ok } from './result.js';
import type { ParseResult, WireError } from './result.js';
import { TcpOptionsScratch, clearOptionList, emitTcpOptionsAt, formatTcpOptions, parseTcpOptionsIn, readTcpOptionsInto, tcpOptionsLen } from './tcp-options.js';
import type { TcpOption } from './tcp-options.js';


/** The fixed header, without options (data offset 5). */
export const TCP_HEADER_LEN = 20;

/** Control bits (RFC 9293 3.1; ECE and CWR from RFC 3168 6.1). */
export const TcpFlag = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

/** Whether `seg` carries `flag` (one of TcpFlag, or several OR-ed: any of them). */
export function hasFlag(seg: { readonly flags: number }, flag: number): boolean {
  return (seg.flags & flag) !== 0;
}

export interface TcpRepr {
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  /** Meaningful only with TcpFlag.ACK, but kept whatever the flags say. */
  readonly ack: number;
  /** Bitmask of TcpFlag values (the 8 bits of header byte 13). */
  readonly flags: number;
  /** The raw 16-bit window field; scaling (RFC 7323 2.3) is protocol code's job. */
  readonly window: number;
  readonly urgentPointer: number;
  /** In wire order, padding NOPs included (see tcp-options.ts). */
  readonly options: readonly TcpOption[];
  readonly payload: Uint8Array;
  /**
   * The 4 reserved bits between data offset and flags (RFC 9293 3.1; the
   * lowest was the RFC 3540 NS bit). Receivers ignore them; parse sets this
   * only when they are nonzero, so that the segment re-emits unchanged.
   */
  readonly reserved?: number;
  /**
   * Set on a segment that receive offload (GRO, tcp/gro.ts) merged from
   * several wire segments of one flow: the payload is then all of
   * `gro.chunks` in order (`payload` is the first of them). Absent or
   * undefined on a segment as it came off the wire; read the payload's
   * length with tcpPayloadLength.
   */
  readonly gro?: TcpGroPayload | undefined;
}

/** The payload of a GRO-merged segment (Linux: a GRO skb's frags, gso_size and gso_segs). */
export interface TcpGroPayload {
  /** The wire segments' payloads, in sequence order, views of their frames; the first `segs` are used. */
  readonly chunks: readonly Uint8Array[];
  /** How many wire segments were merged (gso_segs), at least 2. */
  readonly segs: number;
  /** Their payload bytes in all. */
  readonly length: number;
  /** The first one's payload length (gso_size): every one but the last has it. */
  readonly gsoSize: number;
}

/** SEG.LEN without SYN and FIN: the payload's length, a GRO-merged one's included. */
export function tcpPayloadLength(seg: TcpRepr): number {
  const g = seg.gro;
  if (g !== undefined) return g.length;
  // No view of a payload parsed in place for its length (issue 9).
  return seg instanceof TcpReprScratch ? seg.payloadLength : seg.payload.length;
}

/** The TCP header fields without the payload: what emitTcpHeader needs. */
export type TcpHeaderRepr = Omit<TcpRepr, 'payload'>;

/** The IPv4 addresses that the TCP checksum covers (RFC 9293 3.1 pseudo-header). */
export interface TcpPseudoHeader {
  readonly src: Ipv4Address;
  readonly dst: Ipv4Address;
}

/**
 * Parses a segment. `bytes` is exactly the IP payload (TCP has no length
 * field: the segment ends where the IP datagram does). With `pseudo` the
 * checksum is verified first, so a corrupted segment reports 'bad-checksum'
 * rather than whatever its damaged options look like. Never throws.
 */
export function parseTcp(bytes: Uint8Array, pseudo?: TcpPseudoHeader): ParseResult<TcpRepr> {
  if (bytes.length < TCP_HEADER_LEN) return fail('truncated');
  const headerLen = (bytes[12]! >>> 4) * 4;
  if (headerLen < TCP_HEADER_LEN || headerLen > bytes.length) return fail('bad-header-length');
  if (pseudo !== undefined) {
    const initial = pseudoHeaderSum(pseudo.src, pseudo.dst, IpProtocol.Tcp, bytes.length);
    if (!checksumValid(bytes, initial)) return fail('bad-checksum');
  }
  // Options read in place (no subarray per segment, issue 9).
  const options = parseTcpOptionsIn(bytes, TCP_HEADER_LEN, headerLen);
  if (!options.ok) return options;
  const reserved = bytes[12]! & 0x0f;
  const repr: { -readonly [K in keyof TcpRepr]: TcpRepr[K] } = {
    srcPort: readU16(bytes, 0),
    dstPort: readU16(bytes, 2),
    seq: readU32(bytes, 4),
    ack: readU32(bytes, 8),
    flags: bytes[13]!,
    window: readU16(bytes, 14),
    urgentPointer: readU16(bytes, 18),
    options: options.value,
    payload: bytes.subarray(headerLen),
  };
  // Added only when set (rare), instead of a spread in the literal, which
  // costs a runtime call per segment.
  if (reserved !== 0) repr.reserved = reserved;
  return ok(repr);
}

/** Test mode: reused receive records are overwritten with junk once their user is done (see TcpReprScratch.release). */
let poisonReused = false;

/**
 * For tests only: makes every TcpReprScratch (and its options) hold junk
 * between segments, so that code which kept a record, its options list or
 * its timestamps option past the call it was given in reads nonsense and
 * fails loudly instead of reading the next segment's fields.
 */
export function poisonReusedTcpRecords(on: boolean): void {
  poisonReused = on;
}

const POISON_PAYLOAD = new Uint8Array(7).fill(0xa5);
const EMPTY = new Uint8Array(0);

/**
 * The record parseTcpInto fills: one per receive path, reused for every
 * segment (issue 9: a repr, an options list, a timestamps option and two
 * result records per received segment were most of the receive path's
 * garbage). The contract: whoever is handed it reads it during the call and
 * keeps no reference to it, to its options list or options, or to its
 * payload view (which views the frame, itself reused); it copies what it
 * keeps. SACK blocks and unknown options are fresh objects each time.
 */
export class TcpReprScratch implements TcpRepr {
  srcPort = 0;
  dstPort = 0;
  seq = 0;
  ack = 0;
  flags = 0;
  window = 0;
  urgentPointer = 0;
  /** Always set (0 when clear): re-emits the same bytes as leaving it out. */
  reserved = 0;
  /**
   * The payload as parsed in place: payloadBytes[payloadFrom ..
   * payloadFrom + payloadLength), the frame itself. `payload` views it only
   * when read (issue 9: a subarray per data segment was 1.5% of a tcp-rr
   * profile, and the usual reader, receiveText, copies from the range).
   */
  payloadBytes: Uint8Array = EMPTY;
  payloadFrom = 0;
  payloadLength = 0;
  #payload: Uint8Array | undefined = EMPTY;

  get payload(): Uint8Array {
    let p = this.#payload;
    if (p === undefined) {
      p = this.payloadBytes.subarray(this.payloadFrom, this.payloadFrom + this.payloadLength);
      this.#payload = p;
    }
    return p;
  }

  set payload(v: Uint8Array) {
    this.#payload = v;
    this.payloadBytes = v;
    this.payloadFrom = 0;
    this.payloadLength = v.length;
  }

  /** parseTcpIntoAt: the payload is bytes[from .. from + length), viewed when read. */
  setPayloadRange(bytes: Uint8Array, from: number, length: number): void {
    this.payloadBytes = bytes;
    this.payloadFrom = from;
    this.payloadLength = length;
    // A pure ACK (half of what a bulk transfer receives) shares one empty view.
    this.#payload = length === 0 ? EMPTY : undefined;
  }

  /** Set by GRO only (tcp/gro.ts) while it hands a merged segment over. */
  gro: TcpGroPayload | undefined = undefined;
  readonly scratch = new TcpOptionsScratch();

  get options(): readonly TcpOption[] {
    return this.scratch.list;
  }

  /** The user is done with the record; in test mode (poisonReusedTcpRecords) it now holds junk. */
  release(): void {
    this.payload = EMPTY;
    this.gro = undefined;
    this.scratch.aligned = false;
    if (!poisonReused) return;
    this.srcPort = this.dstPort = -1;
    this.seq = this.ack = this.window = this.urgentPointer = this.flags = Number.NaN;
    this.payload = POISON_PAYLOAD;
    const list = this.scratch.list;
    clearOptionList(list);
    this.scratch.listAligned = false;
    list.push({ kind: 'unknown', type: 0xa5, data: POISON_PAYLOAD });
    const ts = this.scratch.timestamps;
    ts.tsVal = ts.tsEcr = Number.NaN;
  }
}

/**
 * parseTcp into a reused record (see TcpReprScratch for what the caller may
 * keep): the checksum is verified against the pseudo-header of `src`, `dst`
 * when `verify`. Returns why the segment is malformed, or undefined when
 * `into` now holds it.
 */
export function parseTcpInto(bytes: Uint8Array, verify: boolean, src: Ipv4Address, dst: Ipv4Address, into: TcpReprScratch): WireError | undefined {
  return parseTcpIntoAt(bytes, 0, bytes.length, verify, src, dst, into);
}

/**
 * parseTcpInto of the segment at bytes[from..to) (`from` even for the
 * fast checksum path), without a view of the segment itself (issue 9: the
 * receive path parses in the frame, past the link and IP headers).
 */
export function parseTcpIntoAt(
  bytes: Uint8Array,
  from: number,
  to: number,
  verify: boolean,
  src: Ipv4Address,
  dst: Ipv4Address,
  into: TcpReprScratch,
): WireError | undefined {
  const len = to - from;
  if (len < TCP_HEADER_LEN) return 'truncated';
  const headerLen = (bytes[from + 12]! >>> 4) * 4;
  if (headerLen < TCP_HEADER_LEN || headerLen > len) return 'bad-header-length';
  if (verify && !checksumRangeValid(bytes, from, to, pseudoHeaderSum(src, dst, IpProtocol.Tcp, len))) return 'bad-checksum';
  const err = readTcpOptionsInto(bytes, from + TCP_HEADER_LEN, from + headerLen, into.scratch);
  if (err !== undefined) return err;
  into.srcPort = readU16(bytes, from);
  into.dstPort = readU16(bytes, from + 2);
  into.seq = readU32(bytes, from + 4);
  into.ack = readU32(bytes, from + 8);
  into.flags = bytes[from + 13]!;
  into.window = readU16(bytes, from + 14);
  into.urgentPointer = readU16(bytes, from + 18);
  into.reserved = bytes[from + 12]! & 0x0f;
  into.setPayloadRange(bytes, from + headerLen, len - headerLen);
  return undefined;
}

/** A repr of its own, sharing nothing with `seg` (e.g. a reused TcpReprScratch): options and payload copied. */
export function copyTcpRepr(seg: TcpRepr): TcpRepr {
  const repr: { -readonly [K in keyof TcpRepr]: TcpRepr[K] } = {
    srcPort: seg.srcPort,
    dstPort: seg.dstPort,
    seq: seg.seq,
    ack: seg.ack,
    flags: seg.flags,
    window: seg.window,
    urgentPointer: seg.urgentPointer,
    options: seg.options.map((o) => (o.kind === 'timestamps' ? { kind: 'timestamps', tsVal: o.tsVal, tsEcr: o.tsEcr } : o)),
    payload: seg.payload.slice(),
  };
  if (seg.reserved !== undefined && seg.reserved !== 0) repr.reserved = seg.reserved;
  return repr;
}

/** Header plus options, padded: the data offset in bytes. */
export function tcpHeaderLen(repr: Pick<TcpRepr, 'options'>): number {
  return TCP_HEADER_LEN + tcpOptionsLen(repr.options);
}

export function tcpBufferLen(repr: TcpRepr): number {
  return tcpHeaderLen(repr) + repr.payload.length;
}

function checkField(name: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`TCP ${name} out of range: ${v}`);
}

/** Writes header and options with a zero checksum; returns the header length (see checkHeader). */
function writeHeader(repr: TcpHeaderRepr, buf: Uint8Array, headerLen = -1): number {
  headerLen = checkHeader(repr, buf, headerLen);
  writeHeaderFields(repr, buf, headerLen);
  return headerLen;
}

/**
 * The public emitters' range checks of `repr` and of `buf`'s room; returns
 * the header length. `headerLen`: tcpHeaderLen(repr) when the caller knows
 * it (issue 9: the options list was walked twice per segment sent), else -1.
 */
function checkHeader(repr: TcpHeaderRepr, buf: Uint8Array, headerLen: number): number {
  checkField('source port', repr.srcPort, 0xffff);
  checkField('destination port', repr.dstPort, 0xffff);
  checkField('sequence number', repr.seq, 0xffffffff);
  checkField('acknowledgment number', repr.ack, 0xffffffff);
  checkField('flags', repr.flags, 0xff);
  checkField('window', repr.window, 0xffff);
  checkField('urgent pointer', repr.urgentPointer, 0xffff);
  checkField('reserved bits', repr.reserved ?? 0, 0x0f);
  if (headerLen < 0) headerLen = TCP_HEADER_LEN + (repr.options.length === 0 ? 0 : tcpOptionsLen(repr.options));
  if (buf.length < headerLen) throw new RangeError(`TCP header needs ${headerLen} bytes, buffer has ${buf.length}`);
  return headerLen;
}

/** writeHeader's writes, for fields already known to fit and a buffer of `headerLen` bytes at least. */
function writeHeaderFields(repr: TcpHeaderRepr, buf: Uint8Array, headerLen: number): void {
  writeU16(buf, 0, repr.srcPort);
  writeU16(buf, 2, repr.dstPort);
  writeU32(buf, 4, repr.seq);
  writeU32(buf, 8, repr.ack);
  buf[12] = ((headerLen / 4) << 4) | (repr.reserved ?? 0);
  buf[13] = repr.flags;
  writeU16(buf, 14, repr.window);
  writeU16(buf, 16, 0);
  writeU16(buf, 18, repr.urgentPointer);
  if (headerLen !== TCP_HEADER_LEN) emitTcpOptionsAt(repr.options, buf, TCP_HEADER_LEN, headerLen - TCP_HEADER_LEN);
}

/**
 * The unfolded word sum of the fixed header writeHeader wrote for `repr`
 * (checksum field zero), from the fields rather than read back from the
 * bytes (issue 9: the send path sums every header it writes).
 */
function fixedHeaderSum(repr: TcpHeaderRepr, headerLen: number): number {
  const seq = repr.seq;
  const ack = repr.ack;
  return (
    repr.srcPort +
    repr.dstPort +
    (seq >>> 16) +
    (seq & 0xffff) +
    (ack >>> 16) +
    (ack & 0xffff) +
    ((headerLen << 10) | ((repr.reserved ?? 0) << 8) | repr.flags) +
    repr.window +
    repr.urgentPointer
  );
}

/**
 * Writes the whole segment at buf[0..] and returns its length. With `pseudo`
 * the checksum is computed (RFC 9293 3.1, MUST-2); without it the field is 0
 * for the caller to fill. Throws RangeError if `buf` is too small, the
 * options exceed 40 bytes, or a field does not fit.
 */
export function emitTcp(repr: TcpRepr, buf: Uint8Array, pseudo?: TcpPseudoHeader): number {
  const len = tcpBufferLen(repr);
  if (buf.length < len) throw new RangeError(`TCP segment needs ${len} bytes, buffer has ${buf.length}`);
  const headerLen = writeHeader(repr, buf);
  buf.set(repr.payload, headerLen);
  if (pseudo !== undefined) {
    const initial = pseudoHeaderSum(pseudo.src, pseudo.dst, IpProtocol.Tcp, len);
    writeU16(buf, 16, checksumFinish(checksumAdd(initial, buf.subarray(0, len))));
  }
  return len;
}

/**
 * Writes the header and options at buf[0..] for a payload of `payloadLength`
 * bytes that the caller sends from elsewhere (e.g. straight from a send
 * buffer); returns the header length.
 *
 * Without `pseudo` the checksum field is 0. With `pseudo` it holds a PARTIAL
 * sum: the folded, not complemented, one's complement sum of the
 * pseudo-header (whose length is header + payloadLength) and the header.
 * Before sending, the caller must complete it with
 * `finishTcpChecksum(header, payloadChunks)`. (A link that offloads checksums
 * can instead be told to sum the payload and add it to this field.)
 *
 * `headerLen`: tcpHeaderLen(repr), when the caller has it already (a sender
 * sizes its packet with it first), so the options are not measured again.
 */
export function emitTcpHeader(
  repr: TcpHeaderRepr,
  buf: Uint8Array,
  payloadLength: number,
  pseudo?: TcpPseudoHeader,
  headerLen = -1,
): number {
  checkField('payload length', payloadLength, 0xffff);
  return emitTcpHeaderTrusted(repr, buf, payloadLength, pseudo, checkHeader(repr, buf, headerLen));
}

/**
 * emitTcpHeader for a header the stack built itself (a connection's
 * segment, its RST or TIME-WAIT ACK): every field fits by construction
 * (sequence arithmetic is mod 2^32, the window is clamped to 16 bits by
 * windowToAdvertise, ports come from the bind table) and `headerLen` is
 * tcpHeaderLen(repr), which the caller sized `buf` for; so none of the nine
 * range checks of the public emitter (issue 9: they were 18 calls per round
 * trip on tcp-rr). Linux's __tcp_transmit_skb likewise writes th fields
 * from the socket without checks. Same bytes as emitTcpHeader.
 */
export function emitTcpHeaderTrusted(repr: TcpHeaderRepr, buf: Uint8Array, payloadLength: number, pseudo: TcpPseudoHeader | undefined, headerLen: number): number {
  writeHeaderFields(repr, buf, headerLen);
  if (pseudo !== undefined) {
    const initial = pseudoHeaderSum(pseudo.src, pseudo.dst, IpProtocol.Tcp, headerLen + payloadLength) + fixedHeaderSum(repr, headerLen);
    writeU16(buf, 16, checksumFold(checksumAddRange(initial, buf, TCP_HEADER_LEN, headerLen)));
  }
  return headerLen;
}

/**
 * Completes the partial checksum that `emitTcpHeader(..., pseudo)` left in
 * `header`, given the payload as one view or as chunks in order (any lengths,
 * odd ones included; their total must be the payloadLength given then).
 */
export function finishTcpChecksum(header: Uint8Array, payload: Uint8Array | readonly Uint8Array[]): void {
  writeU16(header, 16, checksumFinish(checksumAddChunks(readU16(header, 16), payload)));
}

/**
 * finishTcpChecksum for a payload already in place after the header, at
 * segment[from..to) (`from` even: the header length is), without a view of
 * it (issue 9: a sender fills header and payload into one frame).
 */
export function finishTcpChecksumAt(segment: Uint8Array, from: number, to: number): void {
  writeU16(segment, 16, checksumFinish(checksumAddRange(readU16(segment, 16), segment, from, to)));
}


/**
 * Zero-copy view over a segment's bytes, for hot paths (demultiplexing by
 * port) that should not build a repr. `TcpPacket.view` checks the lengths
 * once; the getters then read in bounds. Options are not validated here:
 * use parseTcp (or parseTcpOptions on `optionsBytes`) before trusting them.
 */
export class TcpPacket {
  private constructor(readonly bytes: Uint8Array) {}

  /** 'truncated' / 'bad-header-length' as parseTcp reports them. */
  static view(bytes: Uint8Array): ParseResult<TcpPacket> {
    if (bytes.length < TCP_HEADER_LEN) return fail('truncated');
    const headerLen = (bytes[12]! >>> 4) * 4;
    if (headerLen < TCP_HEADER_LEN || headerLen > bytes.length) return fail('bad-header-length');
    return ok(new TcpPacket(bytes));
  }

  get srcPort(): number {
    return readU16(this.bytes, 0);
  }
  get dstPort(): number {
    return readU16(this.bytes, 2);
  }
  get seq(): number {
    return readU32(this.bytes, 4);
  }
  get ack(): number {
    return readU32(this.bytes, 8);
  }
  /** The data offset in bytes. */
  get headerLen(): number {
    return (this.bytes[12]! >>> 4) * 4;
  }
  get flags(): number {
    return this.bytes[13]!;
  }
  get window(): number {
    return readU16(this.bytes, 14);
  }
  get checksum(): number {
    return readU16(this.bytes, 16);
  }
  get urgentPointer(): number {
    return readU16(this.bytes, 18);
  }
  get optionsBytes(): Uint8Array {
    return this.bytes.subarray(TCP_HEADER_LEN, this.headerLen);
  }
  get payload(): Uint8Array {
    return this.bytes.subarray(this.headerLen);
  }
  verifyChecksum(pseudo: TcpPseudoHeader): boolean {
    return checksumValid(this.bytes, pseudoHeaderSum(pseudo.src, pseudo.dst, IpProtocol.Tcp, this.bytes.length));
  }
}

// packetdrill's flag letters, in the order its scripts write them ("S.", "FP.", "SEW").
const FLAG_LETTERS: readonly (readonly [number, string])[] = [
  [TcpFlag.SYN, 'S'],
  [TcpFlag.FIN, 'F'],
  [TcpFlag.RST, 'R'],
  [TcpFlag.PSH, 'P'],
  [TcpFlag.URG, 'U'],
  [TcpFlag.ECE, 'E'],
  [TcpFlag.CWR, 'W'],
];

/** Flags as packetdrill writes them: letters, then '.' for ACK; '-' for none. */
export function formatTcpFlags(flags: number): string {
  let s = '';
  for (const [bit, letter] of FLAG_LETTERS) if ((flags & bit) !== 0) s += letter;
  if ((flags & TcpFlag.ACK) !== 0) s += '.';
  return s === '' ? '-' : s;
}

/**
 * A one-line, packetdrill-style description, e.g.
 * `10.0.0.1:80 > 10.0.0.2:5000 S. 0:0(0) ack 1 win 65535 <mss 1460,nop,wscale 7>`.
 * Sequence numbers are absolute; the range covers the payload only, as in
 * packetdrill. Without `ip` only the ports are shown.
 */
export function formatTcp(repr: TcpRepr, ip?: TcpPseudoHeader): string {
  const src = ip !== undefined ? `${formatIpv4(ip.src)}:${repr.srcPort}` : `${repr.srcPort}`;
  const dst = ip !== undefined ? `${formatIpv4(ip.dst)}:${repr.dstPort}` : `${repr.dstPort}`;
  const len = repr.payload.length;
  // Display only, so the modular end is computed here rather than via the seq helpers.
  let s = `${src} > ${dst} ${formatTcpFlags(repr.flags)} ${repr.seq}:${(repr.seq + len) >>> 0}(${len})`;
  if ((repr.flags & TcpFlag.ACK) !== 0) s += ` ack ${repr.ack}`;
  s += ` win ${repr.window}`;
  if ((repr.flags & TcpFlag.URG) !== 0) s += ` urg ${repr.urgentPointer}`;
  if (repr.options.length > 0) s += ` <${formatTcpOptions(repr.options)}>`;
  return s;
}
