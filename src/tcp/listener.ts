/**
 * A listening socket (RFC 9293 3.10.7.2, LISTEN state) and the reply to a
 * segment that matches no socket at all (3.10.7.1, CLOSED).
 *
 * Queues, as in Linux: a SYN queue of connections still in SYN-RECEIVED and
 * an accept queue of established ones waiting for accept(), both bounded by
 * the backlog. When either is full a new SYN is dropped (not reset), so the
 * client retries later, which is what Linux does without syncookies.
 *
 * The listener does not route segments: the stack looks connections up by
 * 4-tuple first and hands only unmatched segments to `input()`. When that
 * creates a connection the stack registers and drives it like any other,
 * and calls `update()` (accept() does too) so that established ones move to
 * the accept queue.
 */
import { TcpFlag } from '../wire/tcp.js';
import type { TcpHeaderRepr, TcpRepr } from '../wire/tcp.js';
import type { Instant } from '../time/instant.js';
import { seqAdd } from './seq.js';
import type { TcpConfig } from './config.js';
import { TcpConnection } from './connection.js';
import { segLen } from './input.js';
import type { TcpEndpoint } from './tcb.js';
import { TcpState } from './state.js';

export type ListenerInputResult =
  /** A new connection in SYN-RECEIVED: register it under its 4-tuple and poll it (it owes a SYN-ACK). */
  | { readonly kind: 'connection'; readonly connection: TcpConnection }
  /** Send this RST (addresses swapped from the segment's). */
  | { readonly kind: 'reset'; readonly header: TcpHeaderRepr }
  /** Nothing to do; `reason` names the drop counter. */
  | { readonly kind: 'drop'; readonly reason: 'rst' | 'not-syn' | 'syn-queue-full' | 'accept-queue-full' };

/**
 * RFC 9293 3.10.7.1: the RST for a segment that no connection or listener
 * wants; undefined for an incoming RST ("an incoming segment containing a
 * RST is discarded"). `localPort` is the segment's destination port.
 */
export function resetFor(seg: TcpRepr): TcpHeaderRepr | undefined {
  if ((seg.flags & TcpFlag.RST) !== 0) return undefined;
  if ((seg.flags & TcpFlag.ACK) !== 0) {
    return { srcPort: seg.dstPort, dstPort: seg.srcPort, seq: seg.ack, ack: 0, flags: TcpFlag.RST, window: 0, urgentPointer: 0, options: [] };
  }
  const len = segLen(seg);
  return {
    srcPort: seg.dstPort,
    dstPort: seg.srcPort,
    seq: 0,
    ack: seqAdd(seg.seq, len),
    flags: TcpFlag.RST | TcpFlag.ACK,
    window: 0,
    urgentPointer: 0,
    options: [],
  };
}

export class TcpListener {
  readonly config: TcpConfig;
  readonly local: TcpEndpoint;
  #backlog: number;
  readonly #synQueue = new Set<TcpConnection>();
  readonly #acceptQueue: TcpConnection[] = [];

  constructor(config: TcpConfig, local: TcpEndpoint, backlog: number) {
    this.config = config;
    this.local = local;
    this.#backlog = clampBacklog(backlog);
  }

  /** listen() again with another backlog (allowed by POSIX). */
  setBacklog(backlog: number): void {
    this.#backlog = clampBacklog(backlog);
  }

  get backlog(): number {
    return this.#backlog;
  }
  /** Connections in SYN-RECEIVED. */
  get synQueueLength(): number {
    return this.#synQueue.size;
  }
  /** Established connections waiting for accept(). */
  get acceptQueueLength(): number {
    return this.#acceptQueue.length;
  }

  /**
   * A segment for this listener (RFC 9293 3.10.7.2). `remote` is the
   * segment's source; `iss` the initial sequence number to use should the
   * segment open a connection (from the RFC 6528 generator).
   */
  input(now: Instant, remote: TcpEndpoint, seg: TcpRepr, iss: number): ListenerInputResult {
    // "First, check for a RST": ignore it.
    if ((seg.flags & TcpFlag.RST) !== 0) return { kind: 'drop', reason: 'rst' };
    // "Second, check for an ACK": nothing was sent, so reset it.
    if ((seg.flags & TcpFlag.ACK) !== 0) {
      const header = resetFor(seg);
      return header !== undefined ? { kind: 'reset', header } : { kind: 'drop', reason: 'rst' };
    }
    // "Third, check for a SYN".
    if ((seg.flags & TcpFlag.SYN) === 0) return { kind: 'drop', reason: 'not-syn' };
    this.update();
    if (this.#acceptQueue.length >= this.#backlog) return { kind: 'drop', reason: 'accept-queue-full' };
    if (this.#synQueue.size >= this.#backlog) return { kind: 'drop', reason: 'syn-queue-full' };
    const connection = TcpConnection.accept(now, this.config, this.local, remote, seg, iss);
    this.#synQueue.add(connection);
    return { kind: 'connection', connection };
  }

  /** Moves connections that finished the handshake to the accept queue and forgets failed ones. */
  update(): void {
    for (const c of this.#synQueue) {
      if (c.state === TcpState.SYN_RECEIVED) continue;
      this.#synQueue.delete(c);
      // A connection that got data and even a FIN before accept() is still accepted (Linux does).
      if (c.state !== TcpState.CLOSED || c.recvAvailable > 0) this.#acceptQueue.push(c);
    }
  }

  /** The oldest established connection, or undefined (EAGAIN). */
  accept(): TcpConnection | undefined {
    this.update();
    return this.#acceptQueue.shift();
  }

  /**
   * close() on the listener: every queued connection is aborted (Linux resets
   * connections nobody accepted). Returns them so the stack drains their RSTs.
   */
  close(): TcpConnection[] {
    const all = [...this.#synQueue, ...this.#acceptQueue];
    for (const c of all) c.abort();
    this.#synQueue.clear();
    this.#acceptQueue.length = 0;
    return all;
  }
}

/** Linux clamps listen()'s backlog to [1, somaxconn = 4096]. */
function clampBacklog(backlog: number): number {
  if (!Number.isFinite(backlog)) return 4096;
  return Math.max(1, Math.min(4096, Math.floor(backlog)));
}
