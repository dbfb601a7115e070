/**
 * How many segments Linux puts in one TSO/GSO packet, which decides where
 * PSH falls inside a burst of new data.
 *
 * Linux's tcp_write_xmit cuts the write queue into packets of at most
 * tcp_tso_segs() segments (tcp_tso_autosize: about 1 ms of data at the
 * pacing rate, at least tcp_min_tso_segs = 2), and __tcp_transmit_skb
 * forces PSH on every packet of two or more segments ("tcp: force a PSH
 * flag on TSO packets", a hint for the receiver's GRO). After GSO only the
 * last segment of such a packet carries it. A single-segment packet gets
 * PSH only if its skb was marked (the tail of a write, tcp_push). So a
 * cwnd-limited burst of 7 segments at a 2-segment TSO size goes out as
 * 2+2+2+1 and its last segment has no PSH.
 *
 * Pure arithmetic on the connection's numbers. output.ts cuts bursts with
 * it; send-memory.ts counts transmitted skbs with it.
 */
import type { Duration } from '../time/duration.js';

/** sk_gso_max_size of a device without a larger GSO limit (GSO_LEGACY_MAX_SIZE). */
export const GSO_MAX_SIZE = 65536;
/** sk_pacing_shift's default: a TSO packet carries about 2^-10 s of data at the pacing rate. */
const PACING_SHIFT = 10;
/** net.ipv4.tcp_tso_rtt_log: short paths get larger TSO packets (gso_max_size >> (min_rtt >> 9)). */
const TSO_RTT_LOG = 9;
/** net.ipv4.tcp_min_tso_segs's default (TcpConfig.minTsoSegs). */
export const MIN_TSO_SEGS = 2;
/** net.ipv4.tcp_pacing_ss_ratio / tcp_pacing_ca_ratio, percent. */
const PACING_SS_RATIO = 200;
const PACING_CA_RATIO = 120;

/**
 * Linux tcp_update_pacing_rate, bytes per second: (mss * cwnd / SRTT) at
 * 200% while cwnd is below half ssthresh (slow start), else 120%. cwnd and
 * ssthresh in segments; SRTT in microseconds, undefined before a sample
 * (then unlimited, as the kernel's initial rate).
 */
export function pacingRate(mss: number, cwndSegs: number, ssthreshSegs: number, packetsOut: number, srttUs: number | undefined): number {
  if (srttUs === undefined || srttUs <= 0) return Number.POSITIVE_INFINITY;
  const ratio = cwndSegs < Math.floor(ssthreshSegs / 2) ? PACING_SS_RATIO : PACING_CA_RATIO;
  return Math.floor((mss * ratio * 10_000 * Math.max(cwndSegs, packetsOut)) / srttUs);
}

/**
 * Linux tcp_tso_autosize (and tcp_tso_segs): segments per TSO packet at
 * `rate` bytes/s with `minRttUs` (undefined before a sample).
 */
export function tsoSegs(mss: number, rate: number, minRttUs: number | undefined, minTsoSegs = MIN_TSO_SEGS): number {
  let bytes = rate === Number.POSITIVE_INFINITY ? GSO_MAX_SIZE : Math.floor(rate / 2 ** PACING_SHIFT);
  if (minRttUs !== undefined) {
    const r = Math.floor(minRttUs / 2 ** TSO_RTT_LOG);
    if (r < 32) bytes += Math.floor(GSO_MAX_SIZE / 2 ** r);
  }
  bytes = Math.min(bytes, GSO_MAX_SIZE);
  return Math.max(Math.floor(bytes / mss), minTsoSegs);
}

/** What tcpTsoSegs reads of a connection (structural: Tcb has it, and tso.ts imports nothing of tcb.ts). */
export interface TsoState {
  readonly mss: number;
  readonly cc: { readonly cwnd: number; readonly ssthresh: number };
  readonly rtt: { readonly srtt: Duration | undefined; readonly minRtt: Duration | undefined };
  readonly config: { readonly minTsoSegs: number };
  flightSize(): number;
}

/** Linux tcp_tso_segs for the connection as it is now: segments per packet of new data. */
export function tcpTsoSegs(t: TsoState): number {
  // Asked for every segment of a burst (output.ts, PSH placement) with the
  // same numbers but a growing flight, which counts only once it exceeds
  // cwnd: the last answer is kept with the flight sizes it holds for
  // (issue 9: about 2% of a bulk transfer went to this arithmetic; Linux
  // computes the size goal once per tcp_write_xmit call).
  const mss = t.mss;
  const cwnd = t.cc.cwnd;
  const ssthresh = t.cc.ssthresh;
  const srtt = t.rtt.srtt;
  const minRtt = t.rtt.minRtt;
  const minSegs = t.config.minTsoSegs;
  const flight = t.flightSize();
  const m = TSO_MEMO;
  if (
    flight > m.flightAbove &&
    flight <= m.flightUpTo &&
    mss === m.mss &&
    cwnd === m.cwnd &&
    ssthresh === m.ssthresh &&
    srtt === m.srtt &&
    minRtt === m.minRtt &&
    minSegs === m.minSegs
  ) {
    return m.segs;
  }
  const cwndSegs = Math.floor(cwnd / mss);
  const packetsOut = Math.ceil(flight / mss);
  const segs = tsoSegs(mss, pacingRate(mss, cwndSegs, Math.floor(ssthresh / mss), packetsOut, srtt), minRtt, minSegs);
  m.mss = mss;
  m.cwnd = cwnd;
  m.ssthresh = ssthresh;
  m.srtt = srtt;
  m.minRtt = minRtt;
  m.minSegs = minSegs;
  // pacingRate reads the flight only as max(cwndSegs, packetsOut): the same
  // answer for every flight of no more than cwndSegs segments, or else of
  // exactly packetsOut segments.
  if (packetsOut <= cwndSegs) {
    m.flightAbove = -1;
    m.flightUpTo = cwndSegs * mss;
  } else {
    m.flightAbove = (packetsOut - 1) * mss;
    m.flightUpTo = packetsOut * mss;
  }
  m.segs = segs;
  return segs;
}

/** tcpTsoSegs's last arguments and answer, shared by every connection (an empty flight range matches no call). */
const TSO_MEMO = {
  mss: 0,
  cwnd: 0,
  ssthresh: 0,
  srtt: undefined as Duration | undefined,
  minRtt: undefined as Duration | undefined,
  minSegs: 0,
  flightAbove: 0,
  flightUpTo: 0,
  segs: 0,
};
