/**
 * What the peer's TCP options say (RFC 7323, RFC 2018, RFC 9293 3.2): the
 * options list of tcp-options.ts folded into its meaning for protocol code.
 * Separate from tcp-options.ts, which parses, emits and builds the list in
 * wire order; this module only reads a parsed list.
 */
import { EMPTY_SACK_BLOCKS } from './tcp-options.js';
import type { SackBlock, TcpOption, TcpTimestamps } from './tcp-options.js';

/** What the peer's options say, for protocol code. */
export interface TcpOptionsSummary {
  /** MSS option value (MUST-14). */
  readonly mss?: number | undefined;
  /** Window scale shift, clamped to 14 (RFC 7323 2.3: "MUST use 14 instead"). */
  readonly windowScale?: number | undefined;
  readonly sackPermitted: boolean;
  readonly timestamps?: TcpTimestamps | undefined;
  /** The SACK blocks of the (last) SACK option, empty when there is none. */
  readonly sackBlocks: readonly SackBlock[];
}

/** What an empty options list says; shared, since most segments without timestamps carry none. */
const NO_OPTIONS_SUMMARY: TcpOptionsSummary = Object.freeze({ sackPermitted: false, sackBlocks: EMPTY_SACK_BLOCKS });

/**
 * Folds the options into their meaning. When an option repeats, the last one
 * wins, as in Linux's tcp_parse_options. Unknown options are ignored (MUST-6).
 */
export function summarizeTcpOptions(options: readonly TcpOption[]): TcpOptionsSummary {
  if (options.length === 0) return NO_OPTIONS_SUMMARY;
  let mss: number | undefined;
  let windowScale: number | undefined;
  let sackPermitted = false;
  let timestamps: TcpTimestamps | undefined;
  let sackBlocks = EMPTY_SACK_BLOCKS;
  for (let k = 0; k < options.length; k++) {
    const o = options[k]!;
    switch (o.kind) {
      case 'mss':
        mss = o.value;
        break;
      case 'window-scale':
        windowScale = Math.min(o.shift, 14);
        break;
      case 'sack-permitted':
        sackPermitted = true;
        break;
      case 'timestamps':
        timestamps = { tsVal: o.tsVal, tsEcr: o.tsEcr };
        break;
      case 'sack':
        sackBlocks = o.blocks;
        break;
      default:
        break;
    }
  }
  // Runs on every received segment: one object, no spread temporaries.
  const summary: { mss?: number; windowScale?: number; sackPermitted: boolean; timestamps?: TcpTimestamps; sackBlocks: readonly SackBlock[] } = {
    sackPermitted,
    sackBlocks,
  };
  if (mss !== undefined) summary.mss = mss;
  if (windowScale !== undefined) summary.windowScale = windowScale;
  if (timestamps !== undefined) summary.timestamps = timestamps;
  return summary;
}

/** A summary that summarizeTcpOptionsInto rewrites, timestamps record included; see there. */
export class TcpOptionsSummaryScratch implements TcpOptionsSummary {
  mss: number | undefined = undefined;
  windowScale: number | undefined = undefined;
  sackPermitted = false;
  timestamps: TcpTimestamps | undefined = undefined;
  sackBlocks: readonly SackBlock[] = EMPTY_SACK_BLOCKS;
  /** The record `timestamps` points to when set. */
  readonly ts: { tsVal: number; tsEcr: number } = { tsVal: 0, tsEcr: 0 };
}

/**
 * summarizeTcpOptions into `into`, for per-segment use (issue 9: a summary and
 * a timestamps record per received segment). The answer is `into` itself,
 * valid until the next call with it: a caller keeps values, never the record.
 */
export function summarizeTcpOptionsInto(options: readonly TcpOption[], into: TcpOptionsSummaryScratch): TcpOptionsSummary {
  into.mss = undefined;
  into.windowScale = undefined;
  into.sackPermitted = false;
  into.timestamps = undefined;
  into.sackBlocks = EMPTY_SACK_BLOCKS;
  for (let k = 0; k < options.length; k++) {
    const o = options[k]!;
    switch (o.kind) {
      case 'mss':
        into.mss = o.value;
        break;
      case 'window-scale':
        into.windowScale = Math.min(o.shift, 14);
        break;
      case 'sack-permitted':
        into.sackPermitted = true;
        break;
      case 'timestamps':
        into.ts.tsVal = o.tsVal;
        into.ts.tsEcr = o.tsEcr;
        into.timestamps = into.ts;
        break;
      case 'sack':
        into.sackBlocks = o.blocks;
        break;
      default:
        break;
    }
  }
  return into;
}
