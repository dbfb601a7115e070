/**
 * IPv4 fragment reassembly (RFC 791 3.2, RFC 815 hole tracking), with the
 * defences a modern host needs (RFC 1858, RFC 5722 as Linux applies it to
 * IPv4 too):
 *
 * - a fragment that partly overlaps data already received discards the whole
 *   datagram (an exact or contained duplicate is only ignored);
 * - incomplete datagrams expire after `timeout` (RFC 1122 3.3.2 recommends
 *   60-120 s; Linux ipfrag_time is 30 s, our default);
 * - all buffered fragments together stay under `maxBytes` (Linux
 *   ipfrag_high_thresh, 4 MiB): the oldest datagrams are evicted to make room.
 *
 * Pure: callers pass `now` and parsed fragments, and get back whole datagrams.
 * Fragment bytes are copied in (received frames may be reused by the link),
 * and memory is accounted per fragment with a fixed overhead so a flood of
 * tiny fragments cannot hide behind small payloads.
 */
import { Duration } from '../time/duration.js';
import { DeadlineWatcher } from '../time/deadline-watch.js';
import type { DeadlineWatch } from '../time/deadline-watch.js';
import type { Instant } from '../time/instant.js';
import { instantAdd } from '../time/instant.js';
import type { Ipv4Address } from '../wire/address.js';
import type { Ipv4Repr } from '../wire/ipv4.js';
import { emitIpv4Header, ipv4HeaderLen } from '../wire/ipv4.js';

/** Bookkeeping charged per fragment on top of its payload (Linux charges skb truesize similarly). */
export const FRAGMENT_OVERHEAD = 128;

export interface ReassemblerOptions {
  /** Default 30 s. */
  readonly timeout?: Duration;
  /** Default 4 MiB. */
  readonly maxBytes?: number;
}

export type ReassemblyResult =
  /**
   * The datagram is whole: the first fragment's header (no longer marked as
   * a fragment) with the reassembled payload, and `raw`, the same datagram
   * as contiguous bytes (header re-emitted, checksum valid), whose tail
   * `datagram.payload` is a view of.
   */
  | { readonly kind: 'complete'; readonly datagram: Ipv4Repr; readonly raw: Uint8Array }
  /** Kept, waiting for more fragments. */
  | { readonly kind: 'pending' }
  /** A copy of data already held; ignored. */
  | { readonly kind: 'duplicate' }
  /** The fragment (and for 'overlap'/'bad-length' the whole datagram so far) was discarded. */
  | { readonly kind: 'dropped'; readonly reason: ReassemblyDropReason };

export type ReassemblyDropReason =
  /** Partial overlap with received data: the whole datagram is discarded. */
  | 'overlap'
  /** A non-last fragment whose length is not a multiple of 8, or a fragment past the known end: discards the datagram. */
  | 'bad-length'
  /** Even after evicting everything else the fragment would not fit in the memory bound. */
  | 'no-memory';

/** An incomplete datagram that timed out. */
export interface ExpiredDatagram {
  readonly src: Ipv4Address;
  readonly dst: Ipv4Address;
  readonly protocol: number;
  readonly identification: number;
  /**
   * The first fragment's IP header and first 8 payload bytes, for an ICMP
   * time exceeded (code 1). Undefined when fragment zero never arrived:
   * RFC 792 and RFC 1122 3.2.2.4 say to send nothing then.
   */
  readonly firstFragmentQuote: Uint8Array | undefined;
}

interface Fragment {
  readonly offset: number;
  readonly end: number;
  readonly data: Uint8Array;
}

interface Datagram {
  readonly key: string;
  readonly src: Ipv4Address;
  readonly dst: Ipv4Address;
  readonly protocol: number;
  readonly identification: number;
  readonly expiresAt: Instant;
  /** Sorted by offset, non-overlapping. */
  fragments: Fragment[];
  /** Known once the last fragment (MF clear) arrived. */
  totalLength: number | undefined;
  received: number;
  memory: number;
  /** Header of fragment zero (with options), kept for the final datagram. */
  first: Ipv4Repr | undefined;
  firstQuote: Uint8Array | undefined;
}

export class Reassembler {
  readonly timeout: Duration;
  readonly maxBytes: number;
  /** Insertion order is age order: eviction takes the oldest first. */
  readonly #datagrams = new Map<string, Datagram>();
  #memory = 0;
  #evicted = 0;

  readonly #watcher = new DeadlineWatcher();

  /** Raises `w` whenever pollAt() may change from now on: the stack asks again only then (issue 9). */
  watchDeadline(w: DeadlineWatch | undefined): void {
    this.#watcher.watch(w);
  }

  constructor(options: ReassemblerOptions = {}) {
    this.timeout = options.timeout ?? Duration.fromSecs(30);
    this.maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
  }

  /** Bytes charged for buffered fragments now; never above maxBytes. */
  get memory(): number {
    return this.#memory;
  }

  /** Incomplete datagrams held. */
  get pending(): number {
    return this.#datagrams.size;
  }

  /** Datagrams evicted for memory since construction. */
  get evicted(): number {
    return this.#evicted;
  }

  /**
   * Adds one fragment (a packet with MF set or a non-zero offset), with
   * the received IP packet (`fragRaw`), used to keep a quote of fragment zero.
   */
  input(now: Instant, frag: Ipv4Repr, fragRaw: Uint8Array): ReassemblyResult {
    // A new datagram, or one completed or evicted, changes pollAt().
    this.#watcher.raise();
    const key = `${frag.src}>${frag.dst}/${frag.protocol}#${frag.identification}`;
    const offset = frag.fragmentOffset;
    const end = offset + frag.payload.length;
    let d = this.#datagrams.get(key);

    // RFC 791: all but the last fragment carry a multiple of 8 bytes.
    const badShape = (frag.moreFragments && frag.payload.length % 8 !== 0) || (frag.moreFragments && frag.payload.length === 0);
    if (badShape || (d?.totalLength !== undefined && (end > d.totalLength || (!frag.moreFragments && end !== d.totalLength)))) {
      if (d !== undefined) this.#remove(d);
      return { kind: 'dropped', reason: 'bad-length' };
    }
    if (d !== undefined && !frag.moreFragments && d.fragments.length > 0 && d.fragments[d.fragments.length - 1]!.end > end) {
      // A last fragment ending before data we already hold.
      this.#remove(d);
      return { kind: 'dropped', reason: 'bad-length' };
    }

    if (d !== undefined) {
      // Find the insertion point and check the neighbours for overlap.
      const frags = d.fragments;
      let i = 0;
      while (i < frags.length && frags[i]!.offset < offset) i++;
      const prev = frags[i - 1];
      const next = frags[i];
      if (this.#contained(frags, offset, end)) return { kind: 'duplicate' };
      if ((prev !== undefined && prev.end > offset) || (next !== undefined && next.offset < end)) {
        this.#remove(d);
        return { kind: 'dropped', reason: 'overlap' };
      }
    }

    const cost = frag.payload.length + FRAGMENT_OVERHEAD;
    if (cost > this.maxBytes) return { kind: 'dropped', reason: 'no-memory' };
    while (this.#memory + cost > this.maxBytes) {
      const oldest = this.#oldestOtherThan(d);
      if (oldest === undefined) {
        // Only this datagram is left and it is too big to finish within the bound.
        if (d !== undefined) this.#remove(d);
        return { kind: 'dropped', reason: 'no-memory' };
      }
      this.#remove(oldest);
      this.#evicted++;
    }

    if (d === undefined) {
      d = {
        key,
        src: frag.src,
        dst: frag.dst,
        protocol: frag.protocol,
        identification: frag.identification,
        expiresAt: instantAdd(now, this.timeout),
        fragments: [],
        totalLength: undefined,
        received: 0,
        memory: 0,
        first: undefined,
        firstQuote: undefined,
      };
      this.#datagrams.set(key, d);
    }
    const frags = d.fragments;
    let i = 0;
    while (i < frags.length && frags[i]!.offset < offset) i++;
    frags.splice(i, 0, { offset, end, data: frag.payload.slice() });
    d.received += frag.payload.length;
    d.memory += cost;
    this.#memory += cost;
    if (!frag.moreFragments) d.totalLength = end;
    if (offset === 0) {
      // Copies: the fragment's views point into a frame the link may reuse.
      d.first = { ...frag, options: frag.options.slice(), payload: new Uint8Array(0) };
      const headerLen = fragRaw.length > 0 ? (fragRaw[0]! & 0x0f) * 4 : 0;
      d.firstQuote = fragRaw.slice(0, Math.min(fragRaw.length, headerLen + 8));
    }

    if (d.totalLength === undefined || d.received !== d.totalLength || d.first === undefined) {
      return { kind: 'pending' };
    }
    // Non-overlapping fragments inside [0, total) whose sizes sum to total
    // leave no hole (RFC 815's hole list reduces to this count here).
    const first = d.first;
    const headerLen = ipv4HeaderLen(first);
    const raw = new Uint8Array(headerLen + d.totalLength);
    const header = { ...first, moreFragments: false, fragmentOffset: 0 };
    emitIpv4Header(header, raw, d.totalLength);
    const payload = raw.subarray(headerLen);
    for (const f of frags) payload.set(f.data, f.offset);
    this.#remove(d);
    return { kind: 'complete', datagram: { ...header, payload }, raw };
  }

  /** Drops datagrams whose time ran out; returns them for ICMP time exceeded. */
  poll(now: Instant): ExpiredDatagram[] {
    this.#watcher.raise();
    const out: ExpiredDatagram[] = [];
    for (const d of this.#datagrams.values()) {
      if (d.expiresAt > now) continue;
      this.#remove(d);
      out.push({
        src: d.src,
        dst: d.dst,
        protocol: d.protocol,
        identification: d.identification,
        firstFragmentQuote: d.firstQuote,
      });
    }
    return out;
  }

  /** The earliest expiry, for the stack's single timer. */
  pollAt(): Instant | undefined {
    // Every datagram gets the same timeout, so insertion order is expiry order.
    // Asked after every frame: no Map iterator when nothing waits (issue 9).
    if (this.#datagrams.size === 0) return undefined;
    for (const d of this.#datagrams.values()) return d.expiresAt;
    return undefined;
  }

  #contained(frags: Fragment[], offset: number, end: number): boolean {
    // Contained in one run of adjacent fragments (Linux compares against runs).
    let runStart = -1;
    let runEnd = -1;
    for (const f of frags) {
      if (f.offset === runEnd) runEnd = f.end;
      else {
        if (runStart <= offset && end <= runEnd) return true;
        runStart = f.offset;
        runEnd = f.end;
      }
    }
    return runStart <= offset && end <= runEnd && runStart >= 0;
  }

  #oldestOtherThan(keep: Datagram | undefined): Datagram | undefined {
    for (const d of this.#datagrams.values()) if (d !== keep) return d;
    return undefined;
  }

  #remove(d: Datagram): void {
    if (this.#datagrams.delete(d.key)) this.#memory -= d.memory;
  }
}
