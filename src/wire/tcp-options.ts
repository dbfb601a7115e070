/**
 * TCP options (RFC 9293 3.1 and 3.2, RFC 7323, RFC 2018).
 *
 * Options are kept as a list in WIRE ORDER, padding NOPs included, so that a
 * parsed segment emits again byte for byte. Protocol code does not walk the
 * list itself: `summarizeTcpOptions` (tcp-options-summary.ts) answers "what
 * did the peer say", and the builders (`synOptions`, `dataOptions`) produce
 * the layouts Linux sends, so packet traces line up with Linux and packetdrill
 * scripts.
 */
import { readU16, readU32, toHex, writeU16, writeU32 } from './bytes.js';
import { fail, ok } from './result.js';
import type { ParseResult, WireError } from './result.js';

/** Option kinds (IANA "TCP Option Kind Numbers"). */
export const TcpOptionKind = {
  EOL: 0,
  NOP: 1,
  MSS: 2,
  WINDOW_SCALE: 3,
  SACK_PERMITTED: 4,
  SACK: 5,
  TIMESTAMPS: 8,
  /** RFC 2385 TCP MD5 signature: kept as an 'unknown' option, only formatted by name. */
  MD5: 19,
  /** RFC 7413 TCP Fast Open cookie: kept as an 'unknown' option, only formatted by name. */
  FAST_OPEN: 34,
  /** RFC 6994 shared experimental kind (Fast Open used it with magic 0xf989 before kind 34). */
  EXPERIMENTAL: 254,
} as const;

/** The largest options area: a 4-bit data offset allows 60 header bytes, 20 fixed. */
export const TCP_MAX_OPTIONS_LEN = 40;

/** One SACK block (RFC 2018 3): [left, right) in sequence space, both uint32. */
export interface SackBlock {
  readonly left: number;
  readonly right: number;
}

export interface TcpTimestamps {
  readonly tsVal: number;
  readonly tsEcr: number;
}

/**
 * One option as it appears on the wire. `eol` ends the list: the bytes after
 * it up to the data offset are zero padding (MUST-69), implied rather than
 * stored. `unknown` keeps any option this module does not interpret, with its
 * data (a view into the parsed bytes), so it can be skipped and re-emitted.
 */
export type TcpOption =
  | { readonly kind: 'eol' }
  | { readonly kind: 'nop' }
  | { readonly kind: 'mss'; readonly value: number }
  | { readonly kind: 'window-scale'; readonly shift: number }
  | { readonly kind: 'sack-permitted' }
  | { readonly kind: 'sack'; readonly blocks: readonly SackBlock[] }
  | { readonly kind: 'timestamps'; readonly tsVal: number; readonly tsEcr: number }
  | { readonly kind: 'unknown'; readonly type: number; readonly data: Uint8Array };

// Shared instances: options without fields need not allocate per segment.
const EOL: TcpOption = Object.freeze({ kind: 'eol' });
const NOP: TcpOption = Object.freeze({ kind: 'nop' });
const SACK_PERMITTED: TcpOption = Object.freeze({ kind: 'sack-permitted' });

/** The largest number of SACK blocks one option can carry (RFC 2018 3: 40 bytes of options). */
export const TCP_MAX_SACK_BLOCKS = 4;

/**
 * How many SACK blocks fit in a data segment next to the options Linux sends:
 * with timestamps (12 bytes: nop,nop,TS) only 3 blocks fit (RFC 2018 3).
 */
export function maxSackBlocks(timestamps: boolean): number {
  return timestamps ? 3 : TCP_MAX_SACK_BLOCKS;
}

/**
 * Parses an options area (the bytes between the fixed header and the data
 * offset). Never throws.
 *
 * - MUST-5: options may appear in any segment, so nothing here depends on flags.
 * - MUST-6: an option we do not know is kept as 'unknown' and skipped by its length.
 * - MUST-64: options are read byte by byte, with no alignment assumptions.
 * - MUST-7: an illegal length (below 2, running past the options area, or the
 *   wrong fixed length for a known kind) fails with 'bad-option'. RFC 9293
 *   3.1 suggests treating such a segment as broken; the stack drops it and
 *   counts the drop instead of guessing where the next option starts.
 */
export function parseTcpOptions(area: Uint8Array): ParseResult<TcpOption[]> {
  return parseTcpOptionsIn(area, 0, area.length);
}

/**
 * parseTcpOptions of `area[start..end)`, read in place: parseTcp calls it on
 * the whole segment, saving a subarray per segment (issue 9). Offsets must be
 * within `area`.
 */
export function parseTcpOptionsIn(area: Uint8Array, start: number, end: number): ParseResult<TcpOption[]> {
  const options: TcpOption[] = [];
  const err = readTcpOptions(area, start, end, options, undefined);
  return err === undefined ? ok(options) : fail(err);
}

/** A timestamps option whose fields a reused parse rewrites (see TcpOptionsScratch). */
interface MutableTimestampsOption {
  readonly kind: 'timestamps';
  tsVal: number;
  tsEcr: number;
}

/**
 * Storage that one parse after another reuses (issue 9: an options list and
 * a timestamps option per received segment were a good part of the receive
 * path's garbage), and one build after another (buildDataOptionsInto, per
 * segment sent). What a parse or build into it yields is valid until the
 * next one into the same scratch, so the caller keeps none of it. SACK
 * blocks and options with data are still new objects each time: those may
 * be kept.
 */
export class TcpOptionsScratch {
  readonly list: TcpOption[] = [];
  readonly timestamps: MutableTimestampsOption = { kind: 'timestamps', tsVal: 0, tsEcr: 0 };
  /**
   * Set by readTcpOptionsInto: the list is exactly NOP, NOP, `timestamps`
   * (the aligned layout), which header prediction (tcp/header-prediction.ts)
   * then need not check option by option.
   */
  aligned = false;
  /**
   * The list holds exactly NOP, NOP, `timestamps` from an earlier aligned
   * parse, kept when the record was released: the next aligned area only
   * rewrites the two numbers (issue 9: three pops and three pushes per
   * segment of a connection with timestamps). Whoever changes the list
   * otherwise clears this.
   */
  listAligned = false;
}

/**
 * Appends the options of `area[start..end)` to `options`; with `scratch`, its
 * timestamps option is filled in rather than a new one made. Returns why the
 * options are malformed, or undefined.
 */
export function readTcpOptions(
  area: Uint8Array,
  start: number,
  end: number,
  options: TcpOption[],
  scratch: TcpOptionsScratch | undefined,
): WireError | undefined {
  let i = start;
  while (i < end) {
    const type = area[i]!;
    if (type === TcpOptionKind.EOL) {
      // RFC 9293 3.1: End of Option List; whatever follows is padding.
      options.push(EOL);
      break;
    }
    if (type === TcpOptionKind.NOP) {
      options.push(NOP);
      i += 1;
      continue;
    }
    // MUST-68: every other option carries a length byte covering kind and length.
    if (i + 1 >= end) return 'bad-option';
    const len = area[i + 1]!;
    if (len < 2 || i + len > end) return 'bad-option';
    const at = i + 2;
    switch (type) {
      case TcpOptionKind.MSS:
        if (len !== 4) return 'bad-option';
        options.push({ kind: 'mss', value: readU16(area, at) });
        break;
      case TcpOptionKind.WINDOW_SCALE:
        if (len !== 3) return 'bad-option';
        // RFC 7323 2.3: a shift above 14 is clamped by the receiver, not by the
        // parser (summarizeTcpOptions does it), so the raw value re-emits.
        options.push({ kind: 'window-scale', shift: area[at]! });
        break;
      case TcpOptionKind.SACK_PERMITTED:
        if (len !== 2) return 'bad-option';
        options.push(SACK_PERMITTED);
        break;
      case TcpOptionKind.SACK: {
        // RFC 2018 3: length 2 + 8n; a SACK option without blocks says nothing.
        const n = (len - 2) / 8;
        if (!Number.isInteger(n) || n < 1 || n > TCP_MAX_SACK_BLOCKS) return 'bad-option';
        const blocks: SackBlock[] = [];
        for (let b = 0; b < n; b++) {
          blocks.push({ left: readU32(area, at + b * 8), right: readU32(area, at + b * 8 + 4) });
        }
        options.push({ kind: 'sack', blocks });
        break;
      }
      case TcpOptionKind.TIMESTAMPS: {
        if (len !== 10) return 'bad-option';
        const tsVal = readU32(area, at);
        const tsEcr = readU32(area, at + 4);
        // One timestamps option per segment is the rule; a second one (a crafted segment) gets its own object.
        const ts = scratch !== undefined && !options.includes(scratch.timestamps) ? scratch.timestamps : undefined;
        if (ts === undefined) {
          options.push({ kind: 'timestamps', tsVal, tsEcr });
        } else {
          ts.tsVal = tsVal;
          ts.tsEcr = tsEcr;
          options.push(ts);
        }
        break;
      }
      default:
        // MUST-6: unsupported options are ignored, but kept so they re-emit.
        options.push({ kind: 'unknown', type, data: area.subarray(at, i + len) });
    }
    i += len;
  }
  return undefined;
}

/**
 * readTcpOptions into `scratch.list`, replacing what it held, for an option
 * area that may be the RFC 7323 Appendix A layout, NOP NOP TS in 12 bytes,
 * which nearly every segment of a connection with timestamps carries: that
 * one is recognised by its first four bytes and filled in directly, as
 * Linux's tcp_parse_aligned_timestamp does (issue 9); the list is the same
 * either way, and `scratch.aligned` says which it was (no other area gives
 * that list).
 */
export function readTcpOptionsInto(area: Uint8Array, start: number, end: number, scratch: TcpOptionsScratch): WireError | undefined {
  const list = scratch.list;
  if (end - start === 12 && area[start] === 1 && area[start + 1] === 1 && area[start + 2] === 8 && area[start + 3] === 10) {
    const ts = scratch.timestamps;
    ts.tsVal = readU32(area, start + 4);
    ts.tsEcr = readU32(area, start + 8);
    if (!scratch.listAligned) {
      clearOptionList(list);
      list.push(NOP, NOP, ts);
      scratch.listAligned = true;
    }
    scratch.aligned = true;
    return undefined;
  }
  scratch.aligned = false;
  scratch.listAligned = false;
  clearOptionList(list);
  return readTcpOptions(area, start, end, list, scratch);
}

/** Empties a short list by pops: `length = 0` is a runtime call, and this runs per segment (issue 9). */
export function clearOptionList(list: unknown[]): void {
  while (list.length > 0) list.pop();
}

/** The bytes one option takes on the wire, before padding. Throws RangeError on an unemittable option. */
function optionLen(o: TcpOption): number {
  switch (o.kind) {
    case 'eol':
    case 'nop':
      return 1;
    case 'mss':
      return 4;
    case 'window-scale':
      return 3;
    case 'sack-permitted':
      return 2;
    case 'sack':
      if (o.blocks.length < 1 || o.blocks.length > TCP_MAX_SACK_BLOCKS) {
        throw new RangeError(`TCP SACK option needs 1..${TCP_MAX_SACK_BLOCKS} blocks, got ${o.blocks.length}`);
      }
      return 2 + 8 * o.blocks.length;
    case 'timestamps':
      return 10;
    case 'unknown':
      if (o.data.length > TCP_MAX_OPTIONS_LEN - 2) {
        throw new RangeError(`TCP option ${o.type} data too long: ${o.data.length}`);
      }
      return 2 + o.data.length;
  }
}

/** Unpadded length of the options. */
function rawOptionsLen(options: readonly TcpOption[]): number {
  let n = 0;
  // Index loops in this file's per-segment paths: for-of allocated an iterator per segment (issue 9).
  for (let k = 0; k < options.length; k++) n += optionLen(options[k]!);
  return n;
}

/**
 * Length of the options area: padded to a multiple of 4 (the data offset
 * counts 32-bit words). Throws RangeError past 40 bytes.
 */
export function tcpOptionsLen(options: readonly TcpOption[]): number {
  const n = (rawOptionsLen(options) + 3) & ~3;
  if (n > TCP_MAX_OPTIONS_LEN) {
    throw new RangeError(`TCP options need ${n} bytes, more than ${TCP_MAX_OPTIONS_LEN}`);
  }
  return n;
}

function checkUint(name: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`TCP option ${name} out of range: ${v}`);
}

/**
 * Writes the options at buf[0..] and zero-fills up to the padded length
 * (MUST-69). Returns the bytes written, tcpOptionsLen(options). Throws
 * RangeError if `buf` is too small or a value does not fit its field.
 */
export function emitTcpOptions(options: readonly TcpOption[], buf: Uint8Array): number {
  const total = tcpOptionsLen(options);
  if (buf.length < total) throw new RangeError(`TCP options need ${total} bytes, buffer has ${buf.length}`);
  emitTcpOptionsAt(options, buf, 0, total);
  return total;
}

/**
 * emitTcpOptions at buf[offset..offset + total), where `total` is
 * tcpOptionsLen(options) and the caller has checked the room: the TCP header
 * writer's path, without a subarray or a second length computation.
 */
export function emitTcpOptionsAt(options: readonly TcpOption[], buf: Uint8Array, offset: number, total: number): void {
  if (total === 12 && options.length === 3) {
    // What every data segment with timestamps carries (buildDataOptionsInto,
    // RFC 7323 Appendix A layout): written without the general loop (issue 9).
    const ts = options[2]!;
    if (ts.kind === 'timestamps' && options[0]!.kind === 'nop' && options[1]!.kind === 'nop') {
      buf[offset] = TcpOptionKind.NOP;
      buf[offset + 1] = TcpOptionKind.NOP;
      buf[offset + 2] = TcpOptionKind.TIMESTAMPS;
      buf[offset + 3] = 10;
      writeU32(buf, offset + 4, ts.tsVal);
      writeU32(buf, offset + 8, ts.tsEcr);
      return;
    }
  }
  let i = offset;
  for (let k = 0; k < options.length; k++) {
    const o = options[k]!;
    switch (o.kind) {
      case 'eol':
        buf[i++] = TcpOptionKind.EOL;
        break;
      case 'nop':
        buf[i++] = TcpOptionKind.NOP;
        break;
      case 'mss':
        checkUint('mss', o.value, 0xffff);
        buf[i] = TcpOptionKind.MSS;
        buf[i + 1] = 4;
        writeU16(buf, i + 2, o.value);
        i += 4;
        break;
      case 'window-scale':
        checkUint('window-scale', o.shift, 0xff);
        buf[i] = TcpOptionKind.WINDOW_SCALE;
        buf[i + 1] = 3;
        buf[i + 2] = o.shift;
        i += 3;
        break;
      case 'sack-permitted':
        buf[i] = TcpOptionKind.SACK_PERMITTED;
        buf[i + 1] = 2;
        i += 2;
        break;
      case 'sack':
        buf[i] = TcpOptionKind.SACK;
        buf[i + 1] = 2 + 8 * o.blocks.length;
        i += 2;
        for (const b of o.blocks) {
          writeU32(buf, i, b.left);
          writeU32(buf, i + 4, b.right);
          i += 8;
        }
        break;
      case 'timestamps':
        buf[i] = TcpOptionKind.TIMESTAMPS;
        buf[i + 1] = 10;
        writeU32(buf, i + 2, o.tsVal);
        writeU32(buf, i + 6, o.tsEcr);
        i += 10;
        break;
      case 'unknown':
        checkUint('kind', o.type, 0xff);
        buf[i] = o.type;
        buf[i + 1] = 2 + o.data.length;
        buf.set(o.data, i + 2);
        i += 2 + o.data.length;
        break;
    }
  }
  // MUST-69: the padding after the last option (or after EOL) is zero.
  const end = offset + total;
  for (; i < end; i++) buf[i] = 0;
}

/** No SACK blocks: one frozen list shared by every options list and summary that has none. */
export const EMPTY_SACK_BLOCKS: readonly SackBlock[] = Object.freeze([]);

export interface SynOptionsSpec {
  readonly mss?: number;
  readonly sackPermitted?: boolean;
  readonly timestamps?: TcpTimestamps;
  readonly windowScale?: number;
}

/**
 * The options of a SYN or SYN-ACK in Linux's layout (tcp_options_write), so
 * our handshakes look like Linux's on the wire and in packetdrill scripts:
 *
 *   mss, sackOK, TS, nop, wscale          (20 bytes; sackOK fills TS's padding)
 *   mss, nop, nop, sackOK, nop, wscale    (12 bytes; no timestamps)
 *   mss, nop, nop, TS, nop, wscale        (20 bytes; no SACK)
 *   mss, nop, wscale                      (8 bytes; neither)
 *
 * MUST-65: MSS belongs on SYNs only; use `dataOptions` for other segments.
 */
export function synOptions(spec: SynOptionsSpec): TcpOption[] {
  const out: TcpOption[] = [];
  if (spec.mss !== undefined) out.push({ kind: 'mss', value: spec.mss });
  const sack = spec.sackPermitted === true;
  if (spec.timestamps !== undefined) {
    if (sack) out.push(SACK_PERMITTED);
    else out.push(NOP, NOP);
    out.push({ kind: 'timestamps', tsVal: spec.timestamps.tsVal, tsEcr: spec.timestamps.tsEcr });
  } else if (sack) {
    out.push(NOP, NOP, SACK_PERMITTED);
  }
  if (spec.windowScale !== undefined) out.push(NOP, { kind: 'window-scale', shift: spec.windowScale });
  return out;
}

export interface DataOptionsSpec {
  readonly timestamps?: TcpTimestamps;
  readonly sackBlocks?: readonly SackBlock[];
}

/**
 * The options of a non-SYN segment in Linux's layout: `nop, nop, TS` then
 * `nop, nop, sack ...`, each group 4-byte aligned. Throws RangeError when
 * more SACK blocks are asked for than fit (see maxSackBlocks): choosing which
 * blocks to drop is the SACK sender's job (RFC 2018 4), not the formatter's.
 */
export function dataOptions(spec: DataOptionsSpec): TcpOption[] {
  const ts = spec.timestamps;
  const blocks = spec.sackBlocks ?? EMPTY_SACK_BLOCKS;
  return buildDataOptions(
    ts !== undefined,
    ts?.tsVal ?? 0,
    ts?.tsEcr ?? 0,
    blocks.length > 0 ? blocks.map((b) => ({ left: b.left, right: b.right })) : EMPTY_SACK_BLOCKS,
  );
}

/**
 * `dataOptions` for the per-segment send path: the same layout and checks,
 * without a spec object, and taking `sackBlocks` as is (not copied: the
 * caller hands over a list nobody else mutates).
 */
export function buildDataOptions(
  timestamps: boolean,
  tsVal: number,
  tsEcr: number,
  sackBlocks: readonly SackBlock[],
): TcpOption[] {
  // A fresh list, for a segment that is kept (e.g. a RST due later).
  return buildDataOptionsInto(new TcpOptionsScratch(), timestamps, tsVal, tsEcr, sackBlocks);
}

/**
 * buildDataOptions into `into` (issue 9: a list and a timestamps option per
 * segment sent): the list returned is `into.list`, valid until the next call
 * with the same `into`. A SACK option is still a new object each time.
 */
export function buildDataOptionsInto(
  into: TcpOptionsScratch,
  timestamps: boolean,
  tsVal: number,
  tsEcr: number,
  sackBlocks: readonly SackBlock[],
): TcpOption[] {
  const out = into.list;
  // Pops, not `length = 0` (a runtime call per segment sent, issue 9).
  while (out.length > 0) out.pop();
  if (timestamps) {
    const ts = into.timestamps;
    ts.tsVal = tsVal;
    ts.tsEcr = tsEcr;
    out.push(NOP, NOP, ts);
  }
  if (sackBlocks.length > 0) {
    const max = maxSackBlocks(timestamps);
    if (sackBlocks.length > max) throw new RangeError(`at most ${max} SACK blocks fit, got ${sackBlocks.length}`);
    out.push(NOP, NOP, { kind: 'sack', blocks: sackBlocks });
  }
  return out;
}

/** RFC 7413 / RFC 6994: the experimental Fast Open option starts with this magic. */
const FAST_OPEN_EXP_MAGIC = 0xf989;

/**
 * Formats options the way packetdrill scripts write them, e.g.
 * `mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 8`. Options packetdrill has no
 * word for print as `unknown <kind> <hex>`.
 */
export function formatTcpOptions(options: readonly TcpOption[]): string {
  return options.map(formatOption).join(',');
}

function formatOption(o: TcpOption): string {
  switch (o.kind) {
    case 'eol':
      return 'eol';
    case 'nop':
      return 'nop';
    case 'mss':
      return `mss ${o.value}`;
    case 'window-scale':
      return `wscale ${o.shift}`;
    case 'sack-permitted':
      return 'sackOK';
    case 'sack':
      return `sack ${o.blocks.map((b) => `${b.left}:${b.right}`).join(' ')}`;
    case 'timestamps':
      return `TS val ${o.tsVal} ecr ${o.tsEcr}`;
    case 'unknown': {
      if (o.type === TcpOptionKind.FAST_OPEN) return o.data.length > 0 ? `FO ${toHex(o.data)}` : 'FO';
      if (o.type === TcpOptionKind.EXPERIMENTAL && o.data.length >= 2 && readU16(o.data, 0) === FAST_OPEN_EXP_MAGIC) {
        const cookie = o.data.subarray(2);
        return cookie.length > 0 ? `FOEXP ${toHex(cookie)}` : 'FOEXP';
      }
      if (o.type === TcpOptionKind.MD5) return `md5 ${toHex(o.data)}`;
      return o.data.length > 0 ? `unknown ${o.type} ${toHex(o.data)}` : `unknown ${o.type}`;
    }
  }
}
