/**
 * The faults a MemoryNetwork can inject, and their validation. Kept apart
 * from the switch so that the switch reads as "where does a frame go" and
 * this file as "what can happen to it on the way".
 */
import type { Rng } from '../random/rng.js';
import { Duration } from '../time/duration.js';
import type { Instant } from '../time/instant.js';

/**
 * The impairment event counter names MemoryNetwork (MemoryCounter) and
 * impairLink (ImpairCounter) share, so a test reads either kind of link the
 * same way.
 */
export const ImpairmentCounter = {
  Sent: 'sent',
  Delivered: 'delivered',
  DroppedLoss: 'dropped-loss',
  DroppedQueue: 'dropped-queue',
  DroppedClosed: 'dropped-closed',
  DroppedNoReceiver: 'dropped-no-receiver',
  Duplicated: 'duplicated',
  Reordered: 'reordered',
  Corrupted: 'corrupted',
} as const;

/**
 * What happens to frames leaving a port. Durations are whole microseconds,
 * probabilities are in [0, 1], every draw comes from the network's seeded Rng.
 */
export interface MemoryImpairments {
  /** Minimum one-way delay of every frame. */
  readonly latency: Duration;
  /**
   * Extra delay, uniform in [0, jitter], drawn per frame. Jitter never
   * reorders frames on one path (a later frame waits for an earlier one, as
   * on a real cable); use `reorder` for that.
   */
  readonly jitter: Duration;
  /**
   * Bits per second the sending port transmits at; Infinity for no limit. A
   * frame of n bytes occupies the port for n*8/bandwidth seconds
   * (serialisation delay) and waits behind the frames before it.
   */
  readonly bandwidth: number;
  /** Frames waiting or in transmission at a bandwidth-limited port, beyond which new frames are tail-dropped. */
  readonly queueLimit: number;
  /** Probability that a frame is lost. */
  readonly loss: number;
  /** Probability that a frame is delivered twice (as two distinct buffers). */
  readonly duplicate: number;
  /** Probability that a frame is held back by `reorderDelay`, so later frames overtake it. */
  readonly reorder: number;
  /** How long a reordered frame is held back beyond its normal delay. */
  readonly reorderDelay: Duration;
  /** Probability that a frame arrives with one random bit flipped. */
  readonly corrupt: number;
}

export const DEFAULT_IMPAIRMENTS: MemoryImpairments = {
  latency: Duration.ZERO,
  jitter: Duration.ZERO,
  bandwidth: Infinity,
  queueLimit: 1000,
  loss: 0,
  duplicate: 0,
  reorder: 0,
  reorderDelay: Duration.fromMillis(1),
  corrupt: 0,
};

function checkDuration(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new RangeError(`MemoryNetwork: ${name} must be a non-negative whole number of microseconds: ${v}`);
  }
}

function checkProbability(name: string, v: number): void {
  if (!(v >= 0 && v <= 1)) throw new RangeError(`MemoryNetwork: ${name} must be a probability in [0, 1]: ${v}`);
}

/**
 * Throws RangeError for values that would make the simulation meaningless
 * (negative delays, probabilities above 1, a zero bandwidth that would hold
 * frames forever): those are programmer errors, better caught at setup.
 */
export function checkImpairments(i: Partial<MemoryImpairments>): void {
  if (i.latency !== undefined) checkDuration('latency', i.latency);
  if (i.jitter !== undefined) checkDuration('jitter', i.jitter);
  if (i.reorderDelay !== undefined) checkDuration('reorderDelay', i.reorderDelay);
  if (i.bandwidth !== undefined && !(i.bandwidth > 0)) {
    throw new RangeError(`MemoryNetwork: bandwidth must be positive bits per second (Infinity for no limit): ${i.bandwidth}`);
  }
  if (i.queueLimit !== undefined && (!Number.isSafeInteger(i.queueLimit) || i.queueLimit < 1)) {
    throw new RangeError(`MemoryNetwork: queueLimit must be a whole number of frames >= 1: ${i.queueLimit}`);
  }
  if (i.loss !== undefined) checkProbability('loss', i.loss);
  if (i.duplicate !== undefined) checkProbability('duplicate', i.duplicate);
  if (i.reorder !== undefined) checkProbability('reorder', i.reorder);
  if (i.corrupt !== undefined) checkProbability('corrupt', i.corrupt);
}

/** Copies only the fields that are present: `{ loss: undefined }` must not erase an earlier value. */
export function mergeImpairments(
  base: Partial<MemoryImpairments>,
  update: Partial<MemoryImpairments>,
): Partial<MemoryImpairments> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(update)) if (v !== undefined) out[k] = v;
  return out;
}

/** Time a port is busy putting `bytes` on a wire of `bandwidth` bits/s, rounded up to whole microseconds. */
export function serialisationDelay(bytes: number, bandwidth: number): Duration {
  if (bandwidth === Infinity) return Duration.ZERO;
  return Math.ceil((bytes * 8 * 1_000_000) / bandwidth) as Duration;
}

/**
 * The random choices made for one frame on one path. Shared by MemoryNetwork
 * and ImpairedLink so both apply the same model; mutable and reused, so the
 * per-frame path allocates nothing.
 */
export class FrameFate {
  lost = false;
  duplicated = false;
  reordered = false;
  /** Uniform in [0, 1): scaled to [0, jitter] by `jitterOf`. */
  jitterDraw = 0;
  /** Whether the first (or only) copy gets a bit flipped, and which bit (before reduction modulo the frame's bits). */
  corrupt1 = false;
  bit1 = 0;
  /** The same for the duplicate. */
  corrupt2 = false;
  bit2 = 0;
}

/**
 * Makes the per-frame draws into `fate`. Always the same number of draws per
 * frame, whatever the outcome and the probabilities: changing one
 * impairment then does not shift the random choices of every later frame.
 * The order (loss, duplicate, reorder, jitter, corrupt, bit, corrupt, bit)
 * is MemoryNetwork's; seeded runs depend on it.
 */
export function drawFrameFate(rng: Rng, imp: MemoryImpairments, fate: FrameFate): void {
  fate.lost = rng.nextFloat() < imp.loss;
  fate.duplicated = rng.nextFloat() < imp.duplicate;
  fate.reordered = rng.nextFloat() < imp.reorder;
  fate.jitterDraw = rng.nextFloat();
  fate.corrupt1 = rng.nextFloat() < imp.corrupt;
  fate.bit1 = rng.nextU32();
  fate.corrupt2 = rng.nextFloat() < imp.corrupt;
  fate.bit2 = rng.nextU32();
}

/** The frame's extra delay from its jitter draw: uniform whole microseconds in [0, jitter]. */
export function jitterOf(fate: FrameFate, imp: MemoryImpairments): Duration {
  return Math.floor(fate.jitterDraw * (imp.jitter + 1)) as Duration;
}

/** Flips bit `bit` (reduced modulo the frame's length in bits) of `buf` in place; an empty frame has no bit to flip. */
export function flipBit(buf: Uint8Array, bit: number): void {
  if (buf.length === 0) return;
  const b = bit % (buf.length * 8);
  buf[b >>> 3]! ^= 1 << (b & 7);
}

/** Whether no random draw can change what happens to a frame (no loss, duplication, reordering, jitter or corruption). */
export function isQuiet(imp: MemoryImpairments): boolean {
  return imp.loss === 0 && imp.duplicate === 0 && imp.reorder === 0 && imp.jitter === 0 && imp.corrupt === 0;
}

/**
 * A bandwidth-limited transmitter: the frames queued or on the wire and when
 * it is free again. `admit` answers when a frame of `bytes` finishes
 * transmission (its departure), or undefined when the queue is full (tail
 * drop). With no bandwidth limit every frame departs at once.
 */
export class TransmitQueue {
  /** When everything queued has been transmitted. */
  busyUntil = 0 as Instant;
  /** Finish times of frames queued or in transmission, oldest first. */
  readonly finishes: Instant[] = [];

  admit(now: Instant, bytes: number, imp: MemoryImpairments): Instant | undefined {
    if (imp.bandwidth === Infinity) return now;
    const q = this.finishes;
    while (q.length > 0 && q[0]! <= now) q.shift();
    if (q.length >= imp.queueLimit) return undefined;
    const start = this.busyUntil > now ? this.busyUntil : now;
    const departure = (start + serialisationDelay(bytes, imp.bandwidth)) as Instant;
    this.busyUntil = departure;
    q.push(departure);
    return departure;
  }
}
