/**
 * The table of live TCP connections by 4-tuple (Linux's established hash),
 * which demultiplexes every received segment. Separate from tcp-protocol.ts:
 * a self-contained index over ConnEntry with no protocol logic in it.
 */
import type { Ipv4Address } from '../wire/address.js';
import type { ConnEntry, TimeWaitEntry } from './tcp-entry.js';

/** A table entry: a connection, or the compact record of one in TIME-WAIT. */
export type TableEntry = ConnEntry | TimeWaitEntry;

/**
 * The key of a (local port, remote port) pair in ConnTable: a small integer
 * (a Smi: no heap number per key), unique while the local port is below
 * 16384; beyond that two pairs may share one, and lookups compare the whole
 * tuple anyway.
 */
function portPairKey(localPort: number, remotePort: number): number {
  return (localPort * 0x10000 + remotePort) % 0x3fffffff;
}

/** Whether `e` is the connection of this tuple. */
function hasTuple(e: TableEntry, localAddr: Ipv4Address, localPort: number, remoteAddr: Ipv4Address, remotePort: number): boolean {
  const l = e.local;
  const r = e.remote;
  return l.port === localPort && r.port === remotePort && l.addr === localAddr && r.addr === remoteAddr;
}

/**
 * The connection table (Linux's established hash): by port pair, then the
 * addresses. One index, numbers only: demultiplexing a segment builds no
 * string (issue 9), and an idle connection costs one Map entry and, in the
 * usual case of a port pair used once, not even an array. (A second,
 * string-keyed index beside it cost about 350 B per connection.)
 */
export class ConnTable {
  readonly #byPorts = new Map<number, TableEntry | TableEntry[]>();
  #size = 0;
  // A one-entry cache in front of the Map: a busy connection's segments come
  // in runs, and even the numeric walk costs more than a compare. Every
  // change to the table empties it.
  #last: TableEntry | undefined;
  #lastLocalAddr = 0;
  #lastLocalPort = 0;
  #lastRemoteAddr = 0;
  #lastRemotePort = 0;

  get size(): number {
    return this.#size;
  }

  *values(): IterableIterator<TableEntry> {
    for (const v of this.#byPorts.values()) {
      if (!Array.isArray(v)) yield v;
      else yield* v;
    }
  }

  find(localAddr: Ipv4Address, localPort: number, remoteAddr: Ipv4Address, remotePort: number): TableEntry | undefined {
    if (
      this.#last !== undefined &&
      this.#lastLocalAddr === localAddr &&
      this.#lastLocalPort === localPort &&
      this.#lastRemoteAddr === remoteAddr &&
      this.#lastRemotePort === remotePort
    ) {
      return this.#last;
    }
    const e = this.#lookup(localAddr, localPort, remoteAddr, remotePort);
    if (e !== undefined) {
      this.#last = e;
      this.#lastLocalAddr = localAddr;
      this.#lastLocalPort = localPort;
      this.#lastRemoteAddr = remoteAddr;
      this.#lastRemotePort = remotePort;
    }
    return e;
  }

  #lookup(localAddr: Ipv4Address, localPort: number, remoteAddr: Ipv4Address, remotePort: number): TableEntry | undefined {
    const v = this.#byPorts.get(portPairKey(localPort, remotePort));
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) return hasTuple(v, localAddr, localPort, remoteAddr, remotePort) ? v : undefined;
    for (let i = 0; i < v.length; i++) {
      const e = v[i]!;
      if (hasTuple(e, localAddr, localPort, remoteAddr, remotePort)) return e;
    }
    return undefined;
  }

  /** Registers `entry` under its conn's tuple, replacing whatever was there. */
  set(entry: TableEntry): void {
    const l = entry.local;
    const r = entry.remote;
    const old = this.#lookup(l.addr, l.port, r.addr, r.port);
    if (old !== undefined) this.delete(old);
    this.#last = undefined;
    const key = portPairKey(l.port, r.port);
    const v = this.#byPorts.get(key);
    if (v === undefined) this.#byPorts.set(key, entry);
    else if (!Array.isArray(v)) this.#byPorts.set(key, [v, entry]);
    else v.push(entry);
    this.#size++;
  }

  /**
   * Puts `entry` where `old`, of the same tuple, was (a connection becoming
   * its TIME-WAIT record): no removal and re-insertion in the Map.
   */
  replace(old: TableEntry, entry: TableEntry): void {
    this.#last = undefined;
    const key = portPairKey(old.local.port, old.remote.port);
    const v = this.#byPorts.get(key);
    if (v === old) {
      this.#byPorts.set(key, entry);
      return;
    }
    const i = Array.isArray(v) ? v.indexOf(old) : -1;
    if (i < 0 || !Array.isArray(v)) {
      this.set(entry);
      return;
    }
    v[i] = entry;
  }

  /** Removes `entry` if it is the one registered under its tuple. */
  delete(entry: TableEntry): void {
    this.#last = undefined;
    const key = portPairKey(entry.local.port, entry.remote.port);
    const v = this.#byPorts.get(key);
    if (v === undefined) return;
    if (!Array.isArray(v)) {
      if (v !== entry) return;
      this.#byPorts.delete(key);
    } else {
      const i = v.indexOf(entry);
      if (i < 0) return;
      v.splice(i, 1);
      if (v.length === 1) this.#byPorts.set(key, v[0]!);
    }
    this.#size--;
  }
}
