/**
 * Local port bookkeeping for one transport protocol (TCP and UDP each have
 * their own): which ports are bound, by whom, and ephemeral port selection.
 *
 * Ephemeral ports follow RFC 6056 3.3.1 (Algorithm 1, "simple port
 * randomization"): start at a random point of the range and take the next
 * free port, as Linux does for connect() without bind(). The range defaults
 * to Linux's ip_local_port_range, 32768-60999.
 *
 * The socket layer decides whether a second binding may share a port
 * (SO_REUSEADDR, SO_REUSEPORT, different local addresses): this class only
 * records bindings and answers queries, and `allocate` takes that decision
 * as a predicate.
 */
import type { Rng } from '../random/rng.js';

export const EPHEMERAL_PORT_LOW = 32768;
export const EPHEMERAL_PORT_HIGH = 60999;

/** Bindings per port above which a port's bindings move from an array to a Set (see #bound). */
const SET_THRESHOLD = 16;
const EMPTY: readonly never[] = Object.freeze([]);

export interface PortRange {
  readonly low: number;
  readonly high: number;
}

export class PortAllocator<B = unknown> {
  readonly #rng: Rng;
  #low: number;
  #high: number;
  /**
   * Bindings per port in bind order. A port with few bindings keeps an array
   * (small, and indexOf over a handful is cheap); one that grows past
   * SET_THRESHOLD (a server port shared by every accepted connection) moves
   * to a Set, whose insertion order is the bind order and whose delete is
   * O(1), so closing 100k connections on port 80 is not quadratic.
   */
  readonly #bound = new Map<number, B[] | Set<B>>();
  /** Array views of the Set-backed ports, built on demand by bindings() and dropped on change. */
  readonly #snapshots = new Map<number, readonly B[]>();

  constructor(rng: Rng, range: PortRange = { low: EPHEMERAL_PORT_LOW, high: EPHEMERAL_PORT_HIGH }) {
    this.#rng = rng;
    this.#low = EPHEMERAL_PORT_LOW;
    this.#high = EPHEMERAL_PORT_HIGH;
    this.setEphemeralRange(range);
  }

  get ephemeralRange(): PortRange {
    return { low: this.#low, high: this.#high };
  }

  /** Like writing /proc/sys/net/ipv4/ip_local_port_range. Throws RangeError unless 1 <= low <= high <= 65535. */
  setEphemeralRange(range: PortRange): void {
    const { low, high } = range;
    if (!Number.isInteger(low) || !Number.isInteger(high) || low < 1 || high > 65535 || low > high) {
      throw new RangeError(`PortAllocator: bad ephemeral range ${low}-${high}`);
    }
    this.#low = low;
    this.#high = high;
  }

  /** Records a binding of `port` (1..65535). Several bindings may share a port; the caller checks whether they may. */
  bind(port: number, binding: B): void {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`PortAllocator: bad port ${port}`);
    const list = this.#bound.get(port);
    if (list === undefined) {
      this.#bound.set(port, [binding]);
    } else if (list instanceof Set) {
      list.add(binding);
      this.#snapshots.delete(port);
    } else if (list.length < SET_THRESHOLD) {
      list.push(binding);
    } else {
      const set = new Set(list);
      set.add(binding);
      this.#bound.set(port, set);
    }
  }

  /** Removes one binding; returns whether it was there. */
  unbind(port: number, binding: B): boolean {
    const list = this.#bound.get(port);
    if (list === undefined) return false;
    if (list instanceof Set) {
      if (!list.delete(binding)) return false;
      this.#snapshots.delete(port);
      if (list.size === 0) this.#bound.delete(port);
      return true;
    }
    const i = list.indexOf(binding);
    if (i < 0) return false;
    list.splice(i, 1);
    if (list.length === 0) this.#bound.delete(port);
    return true;
  }

  isInUse(port: number): boolean {
    return this.#bound.has(port);
  }

  /** The bindings of `port`, oldest first (empty when free). */
  bindings(port: number): readonly B[] {
    const list = this.#bound.get(port);
    if (list === undefined) return EMPTY;
    if (!(list instanceof Set)) return list;
    let snap = this.#snapshots.get(port);
    if (snap === undefined) {
      snap = Array.from(list);
      this.#snapshots.set(port, snap);
    }
    return snap;
  }

  /** Number of ports with at least one binding. */
  get size(): number {
    return this.#bound.size;
  }

  /**
   * Picks an ephemeral port: from a random start, the first port of the range
   * for which `usable` holds (default: no binding at all). Does not bind it.
   * Undefined when every port of the range is taken (EADDRNOTAVAIL for
   * connect, EAGAIN on Linux for an ephemeral bind).
   */
  allocate(usable: (port: number) => boolean = (p) => !this.#bound.has(p)): number | undefined {
    const n = this.#high - this.#low + 1;
    const start = this.#rng.nextInt(n);
    for (let i = 0; i < n; i++) {
      const port = this.#low + ((start + i) % n);
      if (usable(port)) return port;
    }
    return undefined;
  }
}
