/**
 * The TIME-WAIT records of TcpProtocol (TimeWaitEntry, Linux's
 * tcp_timewait_sock): a connection's TCB making way for one, a segment for
 * one (time-wait.ts decides what it does), and freeing one. They live in
 * the protocol's connection table and deadline heap, which this shares.
 */
import type { PortAllocator } from '../stack/port-allocator.js';
import type { Instant } from '../time/instant.js';
import type { TcpRepr } from '../wire/tcp.js';
import type { ConnTable } from './conn-table.js';
import type { DeadlineHeap } from './deadline-heap.js';
import { findListener } from './port-sharing.js';
import { TcpCounter } from './tcp-counters.js';
import { TimeWaitEntry } from './tcp-entry.js';
import type { ConnEntry, TcpBinding } from './tcp-entry.js';
import type { TcpHost } from './tcp-host.js';
import type { TcpTransmitter } from './tcp-transmit.js';
import { TimeWaitAct, timeWaitAck, timeWaitInput, timeWaitRestart } from './time-wait.js';
import type { TcpEndpoint } from './tcb.js';

export class TimeWaitRecords {
  readonly #host: TcpHost;
  readonly #conns: ConnTable;
  readonly #heap: DeadlineHeap;
  readonly #ports: PortAllocator<TcpBinding>;
  /** The listening hash (tcp-listen.ts): a SYN may open a new incarnation. */
  readonly #listening: Map<number, TcpBinding[]>;
  readonly #tx: TcpTransmitter;

  constructor(
    host: TcpHost,
    conns: ConnTable,
    heap: DeadlineHeap,
    ports: PortAllocator<TcpBinding>,
    listening: Map<number, TcpBinding[]>,
    tx: TcpTransmitter,
  ) {
    this.#host = host;
    this.#conns = conns;
    this.#heap = heap;
    this.#ports = ports;
    this.#listening = listening;
    this.#tx = tx;
  }

  /**
   * A connection in TIME-WAIT: its ConnEntry and TCB make way for a compact
   * record (Linux tcp_time_wait: a tcp_timewait_sock takes the tcp_sock's
   * place in the established hash and holds the port). A socket still
   * holding the connection keeps the TCB, now CLOSED (Linux tcp_done:
   * TCP_INFO state 7, unread data then EOF, EPIPE, getpeername ENOTCONN).
   * False, and nothing changed, while the TCB still has more to do than
   * wait (time-wait-state.ts).
   */
  compact(entry: ConnEntry): boolean {
    const tw = new TimeWaitEntry(entry.binding, entry.ttl, entry.tos, entry.pathMtu, entry.highestSent);
    if (!entry.conn.fillTimeWait(tw)) return false;
    entry.released = true;
    const lingering = entry.lingerWaker;
    entry.lingerWaker = undefined;
    lingering?.();
    entry.conn.onEvent = undefined;
    // Same tuple: the record takes the entry's place in the table and the heap.
    this.#conns.replace(entry, tw);
    this.#heap.replace(entry, tw, tw.deadline);
    if (entry.binding.entry === entry) entry.binding.entry = tw;
    entry.conn.handedToTimeWait();
    entry.socket?.connectionEnded(entry);
    return true;
  }

  /** Is there a listener for a SYN from `remote` to `local` (a new incarnation leaving TIME-WAIT)? */
  listenerFor(local: TcpEndpoint, remote: TcpEndpoint): boolean {
    return findListener(this.#listening, local.addr, local.port, remote.addr, remote.port) !== undefined;
  }

  /** Frees a TIME-WAIT record: 2 MSL are over, a RST ended it, or a new incarnation takes the tuple. */
  releaseTimeWait(tw: TimeWaitEntry): void {
    if (tw.released) return;
    tw.released = true;
    this.#heap.remove(tw);
    this.#conns.delete(tw);
    if (tw.binding.entry === tw) {
      tw.binding.entry = undefined;
      this.#ports.unbind(tw.binding.port, tw.binding);
    }
  }

  /**
   * A segment for a TIME-WAIT record (time-wait.ts): its ACK goes out at
   * once. True: a SYN that opens a new incarnation (Linux TCP_TW_SYN) and
   * a listener to take it; the record is already freed.
   */
  timeWaitInput(now: Instant, tw: TimeWaitEntry, seg: TcpRepr): boolean {
    const v = timeWaitInput(tw, now, seg);
    if ((v & TimeWaitAct.NewSyn) !== 0) {
      if (this.listenerFor(tw.local, tw.remote)) {
        this.releaseTimeWait(tw);
        this.#host.stats.increment(TcpCounter.TimeWaitFreed);
        return true;
      }
      // No listener: Linux tcp_v4_rcv lets TCP_TW_SYN fall through to TIME-WAIT's ACK (the record stays).
    } else {
      if ((v & TimeWaitAct.PawsRejected) !== 0) this.#host.stats.increment(TcpCounter.PawsEstabRejected);
      if ((v & TimeWaitAct.AckSkipped) !== 0) this.#host.stats.increment(TcpCounter.AckSkippedTimeWait);
      if ((v & TimeWaitAct.Close) !== 0) {
        this.releaseTimeWait(tw);
        return false;
      }
      if ((v & TimeWaitAct.Restart) !== 0) this.#heap.set(tw, timeWaitRestart(tw, now));
      if ((v & TimeWaitAct.Ack) === 0) return false;
    }
    this.#tx.sendTimeWaitAck(now, tw, timeWaitAck(tw, now));
    return false;
  }
}
