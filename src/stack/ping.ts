/**
 * An ICMP echo client (RFC 792), the engine behind `stack.ping()`. It has no
 * timer of its own: the Stack polls it like any protocol, at `pollAt()`.
 */
import { SocketError } from '../errno/socket-error.js';
import { DeadlineWatcher } from '../time/deadline-watch.js';
import type { DeadlineWatch } from '../time/deadline-watch.js';
import { Duration } from '../time/duration.js';
import type { Instant } from '../time/instant.js';
import { instantAdd, instantDiff } from '../time/instant.js';
import type { Ipv4Address } from '../wire/address.js';
import { formatIpv4 } from '../wire/address.js';
import type { IpSendStatus } from './transport.js';

export interface PingOptions {
  /** Echo requests to send. Default 1, at most 65536 (the sequence number is 16 bits). */
  readonly count?: number;
  /** Data bytes per request (ping -s). Default 56, at most 65507. */
  readonly size?: number;
  /** How long to wait for each reply. Default 1 s. */
  readonly timeout?: Duration;
  /** Time between requests. Default 1 s (ping -i). */
  readonly interval?: Duration;
  readonly ttl?: number;
}

export interface PingResult {
  readonly dst: Ipv4Address;
  readonly sent: number;
  readonly received: number;
  /** Per request, in sequence order: the round-trip time, or undefined when no reply came in time. */
  readonly rtts: readonly (Duration | undefined)[];
}

/** What the ping client needs from the IP layer. */
export type EchoSender = (
  now: Instant,
  dst: Ipv4Address,
  identifier: number,
  sequence: number,
  data: Uint8Array,
  ttl?: number,
) => IpSendStatus;

interface Session {
  readonly dst: Ipv4Address;
  readonly count: number;
  readonly data: Uint8Array;
  readonly timeout: Duration;
  readonly interval: Duration;
  readonly ttl: number | undefined;
  nextSeq: number;
  nextSendAt: Instant;
  readonly outstanding: Map<number, Instant>;
  readonly rtts: (Duration | undefined)[];
  received: number;
  readonly resolve: (r: PingResult) => void;
  readonly reject: (e: unknown) => void;
}

export class PingClient {
  readonly #sessions = new Map<number, Session>();
  #nextId: number;

  readonly #watcher = new DeadlineWatcher();

  /** Raises `w` whenever pollAt() may change from now on: the stack asks again only then (issue 9). */
  watchDeadline(w: DeadlineWatch | undefined): void {
    this.#watcher.watch(w);
  }

  constructor(initialIdentifier: number) {
    this.#nextId = initialIdentifier & 0xffff;
  }

  /** Starts a session; the first request goes out at the next poll. Throws RangeError for bad options. */
  start(now: Instant, dst: Ipv4Address, options: PingOptions): Promise<PingResult> {
    const count = options.count ?? 1;
    const size = options.size ?? 56;
    if (!Number.isInteger(count) || count < 1 || count > 65536) throw new RangeError(`ping: count ${count} is not in 1..65536`);
    if (!Number.isInteger(size) || size < 0 || size > 65507) throw new RangeError(`ping: size ${size} is not in 0..65507`);
    if (this.#sessions.size >= 65536) throw new RangeError('ping: too many concurrent sessions');
    let id = this.#nextId;
    while (this.#sessions.has(id)) id = (id + 1) & 0xffff;
    this.#nextId = (id + 1) & 0xffff;
    // A recognisable pattern, like ping's: a corrupted reply is easy to spot in a capture.
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i++) data[i] = i & 0xff;
    this.#watcher.raise();
    return new Promise<PingResult>((resolve, reject) => {
      this.#sessions.set(id, {
        dst,
        count,
        data,
        timeout: options.timeout ?? Duration.fromSecs(1),
        interval: options.interval ?? Duration.fromSecs(1),
        ttl: options.ttl,
        nextSeq: 0,
        nextSendAt: now,
        outstanding: new Map(),
        rtts: new Array<Duration | undefined>(count).fill(undefined),
        received: 0,
        resolve,
        reject,
      });
    });
  }

  onReply(now: Instant, from: Ipv4Address, identifier: number, sequence: number): void {
    const s = this.#sessions.get(identifier);
    if (s === undefined || from !== s.dst) return;
    const sentAt = s.outstanding.get(sequence);
    if (sentAt === undefined) return; // a duplicate, or too late
    // Its timeout no longer counts in pollAt().
    this.#watcher.raise();
    s.outstanding.delete(sequence);
    s.rtts[sequence] = instantDiff(now, sentAt);
    s.received++;
    this.#finishIfDone(identifier, s);
  }

  poll(now: Instant, send: EchoSender): void {
    if (this.#sessions.size === 0) return;
    this.#watcher.raise();
    for (const [id, s] of this.#sessions) {
      for (const [seq, sentAt] of s.outstanding) {
        if (instantAdd(sentAt, s.timeout) <= now) s.outstanding.delete(seq);
      }
      while (s.nextSeq < s.count && s.nextSendAt <= now) {
        const seq = s.nextSeq++;
        const status = send(now, s.dst, id, seq & 0xffff, s.data, s.ttl);
        if (status !== 'sent' && status !== 'queued' && status !== 'dropped') {
          this.#sessions.delete(id);
          s.reject(new SocketError(status, 'sendto', { address: formatIpv4(s.dst) }));
          break;
        }
        s.outstanding.set(seq & 0xffff, now);
        s.nextSendAt = instantAdd(now, s.interval);
      }
      this.#finishIfDone(id, s);
    }
  }

  pollAt(): Instant | undefined {
    // The stack asks after every frame and nearly always nobody pings: no
    // Map iterator then (issue 9: 0.6% self time of tcp-rr, plus its garbage).
    if (this.#sessions.size === 0) return undefined;
    let at: Instant | undefined;
    for (const s of this.#sessions.values()) {
      if (s.nextSeq < s.count && (at === undefined || s.nextSendAt < at)) at = s.nextSendAt;
      for (const sentAt of s.outstanding.values()) {
        const t = instantAdd(sentAt, s.timeout);
        if (at === undefined || t < at) at = t;
      }
    }
    return at;
  }

  #finishIfDone(id: number, s: Session): void {
    if (s.nextSeq < s.count || s.outstanding.size > 0) return;
    if (this.#sessions.get(id) !== s) return;
    this.#sessions.delete(id);
    s.resolve({ dst: s.dst, sent: s.nextSeq, received: s.received, rtts: s.rtts });
  }
}
