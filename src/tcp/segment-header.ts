/**
 * Building the headers of the segments a connection sends (Tcb.header,
 * outHeader, synHeader): the ACK, window and options fields, and the
 * records shared by every connection for the segment going out now.
 * Split from tcb.ts by responsibility; the TCB's fields stay there.
 */
import { EMPTY_SACK_BLOCKS, TcpOptionsScratch, buildDataOptions, buildDataOptionsInto, synOptions } from '../wire/tcp-options.js';
import type { SackBlock, TcpOption } from '../wire/tcp-options.js';
import type { TcpHeaderRepr } from '../wire/tcp.js';
import { Instant } from '../time/instant.js';
import { seqAdd, seqMax } from './seq.js';
import type { TcpConfig } from './config.js';
import { TcpState } from './state.js';
import { NOT_ARMED } from './not-armed.js';

/**
 * The parts of the TCB (tcb.ts) that header building reads and writes;
 * structural, so this module need not import the Tcb class (no cycle).
 */
export interface HeaderTcb {
  readonly config: TcpConfig;
  readonly state: TcpState;
  readonly local: { readonly port: number };
  readonly remote: { readonly port: number };
  readonly iss: number;
  readonly rcvNxt: number;
  rcvAdv: number;
  lastAckSent: number;
  ackNow: boolean;
  delackAt: Instant;
  unackedSegments: number;
  pushedWhileDelayed: boolean;
  pushedTwice: boolean;
  readonly tsOk: boolean;
  readonly sackOk: boolean;
  readonly wsAgreed: boolean;
  readonly tsRecent: number;
  readonly rcvWscale: number;
  readonly ourMss: number;
  readonly ourWscale: number;
  readonly assembler: { readonly isEmpty: boolean };
  windowToAdvertise(): number;
  rcvSpace(): number;
  tsNow(now: Instant): number;
  sackBlocks(): SackBlock[];
}

/** Fills `out`; returns its header length (tcpHeaderLen). */
export function fillHeader(t: HeaderTcb, now: Instant, seq: number, flags: number, urgentPointer: number, out: MutableHeader, scratch: TcpOptionsScratch | undefined): number {
  const wnd = t.windowToAdvertise();
  t.rcvAdv = seqMax(t.rcvAdv, seqAdd(t.rcvNxt, wnd));
  t.lastAckSent = t.rcvNxt;
  t.ackNow = false;
  t.delackAt = NOT_ARMED;
  t.unackedSegments = 0;
  t.pushedWhileDelayed = false;
  t.pushedTwice = false;
  let options: TcpOption[] = NO_OPTIONS;
  let headerLength = 20;
  if (t.tsOk || (t.sackOk && !t.assembler.isEmpty)) {
    // The fresh blocks from sackBlocks() are handed over uncopied.
    const tsVal = t.tsOk ? t.tsNow(now) : 0;
    // No SACK blocks without islands: skips the two arrays sackBlocks() makes (issue 9).
    const blocks = t.sackOk && !t.assembler.isEmpty ? t.sackBlocks() : EMPTY_SACK_BLOCKS;
    options =
      scratch === undefined
        ? buildDataOptions(t.tsOk, tsVal, t.tsRecent, blocks)
        : buildDataOptionsInto(scratch, t.tsOk, tsVal, t.tsRecent, blocks);
    // buildDataOptions's layout: NOP, NOP, timestamps (12); NOP, NOP, SACK (4 + 8 per block).
    headerLength += (t.tsOk ? 12 : 0) + (blocks.length > 0 ? 4 + 8 * blocks.length : 0);
  }
  out.srcPort = t.local.port;
  out.dstPort = t.remote.port;
  out.seq = seq;
  out.ack = t.rcvNxt;
  out.flags = flags;
  out.window = Math.min(0xffff, wnd >>> t.rcvWscale);
  out.urgentPointer = urgentPointer;
  out.options = options;
  return headerLength;
}

/** SYN or SYN-ACK header with our options (RFC 9293 3.7.1 MSS, RFC 7323, RFC 2018). */
export function synHeader(t: HeaderTcb, now: Instant, flags: number): TcpHeaderRepr {
  const synAck = t.state === TcpState.SYN_RECEIVED;
  // On a SYN-ACK we only echo what the peer offered (RFC 7323 1.3, 2.2; RFC 2018 2).
  const ts = t.config.timestamps && (!synAck || t.tsOk);
  const ws = t.config.windowScaling && (!synAck || t.wsAgreed);
  const sack = t.config.sack && (!synAck || t.sackOk);
  // RFC 7323 2.2: the window field of a SYN is never scaled.
  const wnd = Math.min(0xffff, t.rcvSpace());
  t.rcvAdv = seqAdd(t.rcvNxt, wnd);
  if (synAck) t.lastAckSent = t.rcvNxt;
  return {
    srcPort: t.local.port,
    dstPort: t.remote.port,
    seq: t.iss,
    ack: synAck ? t.rcvNxt : 0,
    flags,
    window: wnd,
    urgentPointer: 0,
    options: synOptions({
      mss: t.ourMss,
      sackPermitted: sack,
      ...(ts ? { timestamps: { tsVal: t.tsNow(now), tsEcr: synAck ? t.tsRecent : 0 } } : {}),
      ...(ws ? { windowScale: t.ourWscale } : {}),
    }),
  };
}

export const NO_OPTIONS: TcpOption[] = [];

/**
 * floor(now / 1 ms) modulo 2^32 as an int32, the TSval clock before its
 * offset (Tcb.tsNow adds the offset and takes it modulo 2^32, so only the
 * low 32 bits matter), through a one-entry cache of the current millisecond
 * shared by every connection: a float division and floor per segment sent
 * and per ACK with timestamps was the largest line of the send path (issue
 * 9), and a request/response exchange stays within one millisecond for
 * hundreds of round trips. Linux likewise reads tcp_clock_cache rather than
 * dividing per segment (tcp_time_stamp_ms). The int32 is a small integer to
 * V8: the whole millisecond count (about 2^40 since 1970) was a heap number
 * allocated on each return (issue 9: 32 B per round trip).
 */
export function tsMillis(now: Instant): number {
  const c = TS_MS;
  if (now >= c.from && now < c.from + 1000) return c.ms;
  const ms = Math.floor(Instant.toMicros(now) / 1000);
  c.ms = ms | 0;
  c.from = ms * 1000;
  return c.ms;
}
/** tsMillis's cache: `ms` for instants in [from, from + 1000); nothing matches at first. */
const TS_MS = { from: Number.POSITIVE_INFINITY, ms: 0 };

export type MutableHeader = { -readonly [K in keyof TcpHeaderRepr]: TcpHeaderRepr[K] } & { options: TcpOption[] };

/**
 * The outgoing header, its options and the segment record, shared by every
 * connection (Tcb.outHeader): a segment is sent before the next one is
 * built, and no link delivers inside send(), so no other connection's output
 * runs in between.
 */
export const OUT_HEADER: MutableHeader = { srcPort: 0, dstPort: 0, seq: 0, ack: 0, flags: 0, window: 0, urgentPointer: 0, options: NO_OPTIONS };
export const OUT_OPTIONS = new TcpOptionsScratch();
/** output.ts's TcpSegmentOut, writable. */
export interface MutableSegmentOut {
  header: TcpHeaderRepr;
  headerLength: number;
  payloadStore: Uint8Array;
  payloadStart: number;
  payloadLength: number;
}
export const SEGMENT_OUT: MutableSegmentOut = { header: OUT_HEADER, headerLength: 20, payloadStore: new Uint8Array(0), payloadStart: 0, payloadLength: 0 };
