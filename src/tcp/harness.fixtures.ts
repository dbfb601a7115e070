/**
 * Test harness: two hosts joined by a deterministic in-memory segment pipe
 * on virtual time, with optional seeded loss, duplication and reordering.
 * Segments go through emitTcp/parseTcp with checksums, so options encoding
 * is exercised too. Test-only (excluded from the build as *.fixtures.ts).
 */
import { ipv4 } from '../wire/address.js';
import type { Ipv4Address } from '../wire/address.js';
import { copyTcpRepr, emitTcp, formatTcp, parseTcp, tcpBufferLen, tcpHeaderLen } from '../wire/tcp.js';
import type { TcpHeaderRepr, TcpRepr } from '../wire/tcp.js';
import { Duration } from '../time/duration.js';
import { Instant, instantAdd } from '../time/instant.js';
import { tcpConfig } from './config.js';
import type { TcpConfig } from './config.js';
import { TcpConnection } from './connection.js';
import type { TcpSegmentOut } from './connection.js';
import { TcpListener, resetFor } from './listener.js';
import { copySegmentPayload } from './output.js';
import { TcpState } from './state.js';
import { SeededRng } from '../random/rng.js';

/** A seeded stream of floats in [0, 1) from the project's SeededRng, for fault injection in tests. */
export function prng(seed: number): () => number {
  const rng = new SeededRng(seed);
  return () => rng.nextFloat();
}

export interface Faults {
  readonly loss?: number;
  readonly duplicate?: number;
  /** Probability that a segment is delayed by an extra `reorderDelay`. */
  readonly reorder?: number;
  readonly reorderDelay?: Duration;
}

export interface SentSegment {
  readonly at: Instant;
  readonly from: Ipv4Address;
  readonly to: Ipv4Address;
  readonly seg: TcpRepr;
  readonly dropped: boolean;
}

interface InFlight {
  readonly at: Instant;
  readonly order: number;
  readonly to: Host;
  readonly from: Ipv4Address;
  readonly bytes: Uint8Array;
}

export function toRepr(out: TcpSegmentOut): TcpRepr {
  const payload = new Uint8Array(out.payloadLength);
  copySegmentPayload(out, payload, 0);
  return { ...out.header, payload };
}

export class Host {
  readonly conns = new Map<string, TcpConnection>();
  readonly listeners = new Map<number, TcpListener>();
  /** Hook: drop a segment arriving here when it returns true. */
  filterIn: ((seg: TcpRepr) => boolean) | undefined = undefined;
  #issCounter: number;

  constructor(
    readonly net: Net,
    readonly addr: Ipv4Address,
    readonly config: TcpConfig,
  ) {
    this.#issCounter = (addr * 2654435761) >>> 0;
  }

  nextIss(): number {
    this.#issCounter = (this.#issCounter + 0x10000001) >>> 0;
    return this.#issCounter;
  }

  connect(remote: Host, remotePort: number, localPort = 40000 + this.conns.size, iss = this.nextIss()): TcpConnection {
    const c = TcpConnection.connect(this.net.now, this.config, { addr: this.addr, port: localPort }, { addr: remote.addr, port: remotePort }, iss);
    this.conns.set(`${localPort}:${remotePort}`, c);
    return c;
  }

  listen(port: number, backlog = 16): TcpListener {
    const l = new TcpListener(this.config, { addr: this.addr, port }, backlog);
    this.listeners.set(port, l);
    return l;
  }

  deliver(now: Instant, from: Ipv4Address, seg: TcpRepr): void {
    const key = `${seg.dstPort}:${seg.srcPort}`;
    const c = this.conns.get(key);
    if (c !== undefined && !c.isClosed) {
      c.input(now, seg);
      return;
    }
    const l = this.listeners.get(seg.dstPort);
    if (l !== undefined) {
      const r = l.input(now, { addr: from, port: seg.srcPort }, seg, this.nextIss());
      if (r.kind === 'connection') this.conns.set(key, r.connection);
      else if (r.kind === 'reset') this.net.send(this, from, r.header, []);
      return;
    }
    const rst = resetFor(seg);
    if (rst !== undefined) this.net.send(this, from, rst, []);
  }

  /** Drains every connection's output; returns the number of segments sent. */
  flush(now: Instant): number {
    let n = 0;
    for (const c of this.conns.values()) {
      for (let out = c.poll(now); out !== undefined; out = c.poll(now)) {
        n++;
        // The transmitter sizes the packet with headerLength: every harness run checks it.
        if (out.headerLength !== tcpHeaderLen(out.header)) throw new Error(`headerLength ${out.headerLength}, options take ${tcpHeaderLen(out.header)}`);
        this.net.send(this, c.remote.addr, out.header, [toRepr(out).payload]);
        // TcpProtocol ends a drain where drainDone() says so: every harness
        // run checks that the poll it skips would have sent nothing.
        if (c.drainDone()) {
          const extra = c.poll(now);
          if (extra !== undefined) throw new Error(`drainDone, yet poll() sent seq ${extra.header.seq} flags ${extra.header.flags} len ${extra.payloadLength}`);
          break;
        }
      }
      // TcpProtocol asks pollAt(true) right after a drain, skipping a planning
      // pass: every harness run checks that this changes nothing.
      const drained = c.pollAt(true);
      const full = c.pollAt();
      if (drained !== full) throw new Error(`pollAt after a drain: ${drained} with the shortcut, ${full} without`);
    }
    for (const l of this.listeners.values()) l.update();
    return n;
  }

  pollAt(): Instant | undefined {
    let at: Instant | undefined;
    for (const c of this.conns.values()) {
      const p = c.pollAt();
      if (p !== undefined && (at === undefined || p < at)) at = p;
    }
    return at;
  }
}

export class Net {
  now: Instant = Instant.ZERO;
  readonly hosts: Host[] = [];
  readonly log: SentSegment[] = [];
  latency: Duration = Duration.fromMillis(10);
  faults: Faults = {};
  /** Hook: drop a segment when it returns true (runs before random faults). */
  dropIf: ((seg: TcpRepr, from: Ipv4Address) => boolean) | undefined = undefined;
  traceEnabled = false;
  readonly #queue: InFlight[] = [];
  #order = 0;
  readonly #rand: () => number;
  readonly #buf = new Uint8Array(65536 + 60);

  constructor(seed = 1) {
    this.#rand = prng(seed);
  }

  host(addr: string, config: Partial<TcpConfig> = {}): Host {
    const h = new Host(this, ipv4(addr), tcpConfig(config));
    this.hosts.push(h);
    return h;
  }

  send(from: Host, to: Ipv4Address, header: TcpHeaderRepr, payload: readonly Uint8Array[]): void {
    let len = 0;
    for (const p of payload) len += p.length;
    // One copy, as the stack would do: header, then the payload views.
    const flat = new Uint8Array(len);
    let o = 0;
    for (const p of payload) {
      flat.set(p, o);
      o += p.length;
    }
    // A repr of its own for the log: the connection reuses its header record and options (TcpSegmentOut).
    const repr: TcpRepr = copyTcpRepr({ ...header, payload: flat });
    const pseudo = { src: from.addr, dst: to };
    const n = emitTcp(repr, this.#buf.subarray(0, tcpBufferLen(repr)), pseudo);
    const bytes = this.#buf.slice(0, n);
    const target = this.hosts.find((h) => h.addr === to);
    let dropped = target === undefined || (this.dropIf?.(repr, from.addr) ?? false);
    const f = this.faults;
    if (!dropped && f.loss !== undefined && this.#rand() < f.loss) dropped = true;
    this.log.push({ at: this.now, from: from.addr, to, seg: repr, dropped });
    if (this.traceEnabled) console.log(`${Instant.toMillis(this.now)}ms ${dropped ? 'DROP ' : ''}${formatTcp(repr, pseudo)}`);
    if (dropped || target === undefined) return;
    let at = instantAdd(this.now, this.latency);
    if (f.reorder !== undefined && this.#rand() < f.reorder) at = instantAdd(at, f.reorderDelay ?? Duration.fromMillis(5));
    this.#push({ at, order: this.#order++, to: target, from: from.addr, bytes });
    if (f.duplicate !== undefined && this.#rand() < f.duplicate) {
      this.#push({ at: instantAdd(at, Duration.fromMillis(1)), order: this.#order++, to: target, from: from.addr, bytes });
    }
  }

  #push(x: InFlight): void {
    this.#queue.push(x);
    this.#queue.sort((a, b) => a.at - b.at || a.order - b.order);
  }

  /** Runs until `until` (virtual), or until `done()` holds after a step. Returns true if done() held. */
  run(until: Duration, done?: () => boolean): boolean {
    const end = instantAdd(this.now, until);
    let sameInstantSteps = 0;
    for (;;) {
      let sent = 0;
      for (const h of this.hosts) sent += h.flush(this.now);
      if (done?.() === true) return true;
      let next: Instant | undefined = this.#queue[0]?.at;
      for (const h of this.hosts) {
        const p = h.pollAt();
        if (p !== undefined && (next === undefined || p < next)) next = p;
      }
      if (next === undefined || next > end) {
        this.now = end;
        for (const h of this.hosts) h.flush(this.now);
        return done?.() ?? false;
      }
      if (next <= this.now) {
        next = this.now;
        if (sent === 0 && (this.#queue[0]?.at ?? end) > this.now) {
          if (++sameInstantSteps > 100) throw new Error(`harness: pollAt() keeps returning ${this.now} with nothing to send`);
        }
      } else sameInstantSteps = 0;
      this.now = next;
      while (this.#queue.length > 0 && this.#queue[0]!.at <= this.now) {
        const x = this.#queue.shift()!;
        const parsed = parseTcp(x.bytes, { src: x.from, dst: x.to.addr });
        if (!parsed.ok) throw new Error(`harness: unparsable segment: ${parsed.reason}`);
        if (x.to.filterIn?.(parsed.value) === true) continue;
        x.to.deliver(this.now, x.from, parsed.value);
      }
    }
  }

  /** Segments sent so far, formatted (for debugging failing tests). */
  dump(): string {
    return this.log
      .map((s) => `${Instant.toMillis(s.at)}ms ${s.dropped ? 'DROP ' : ''}${formatTcp(s.seg, { src: s.from, dst: s.to })}`)
      .join('\n');
  }
}

/** Reads everything available from a connection into `sink`. */
export function drain(c: TcpConnection, sink: number[] | { bytes: Uint8Array[] }): number {
  const buf = new Uint8Array(65536);
  let total = 0;
  for (;;) {
    const n = c.recv(buf);
    if (n === 0) return total;
    total += n;
    if (Array.isArray(sink)) for (let i = 0; i < n; i++) sink.push(buf[i]!);
    else sink.bytes.push(buf.slice(0, n));
  }
}

export interface PairOptions {
  /** Net seed. */
  readonly seed: number;
  /** Config of host A (10.0.0.1, the client). */
  readonly client?: Partial<TcpConfig>;
  /** Config of host B (10.0.0.2, listening on port 80); defaults to `client`. */
  readonly server?: Partial<TcpConfig>;
  /** One-way latency of the pipe, set before the hosts are made; the Net default when absent. */
  readonly latency?: Duration;
  /** Virtual time run after establishment (to let the handshake's last ACK land); none when absent. */
  readonly settle?: Duration;
}

/**
 * Host A (10.0.0.1) connects to host B (10.0.0.2) port 80 on a new Net; runs
 * until A is ESTABLISHED and B has accepted (`c` is A's end, `s` is B's).
 */
export function connectedPair(o: PairOptions) {
  const net = new Net(o.seed);
  if (o.latency !== undefined) net.latency = o.latency;
  const client = o.client ?? {};
  const a = net.host('10.0.0.1', client);
  const b = net.host('10.0.0.2', o.server ?? client);
  const l = b.listen(80);
  const c = a.connect(b, 80);
  let s: TcpConnection | undefined;
  net.run(Duration.fromSecs(5), () => (s ??= l.accept()) !== undefined && c.state === TcpState.ESTABLISHED);
  if (s === undefined) throw new Error('no connection\n' + net.dump());
  if (o.settle !== undefined) net.run(o.settle);
  return { net, a, b, l, c, s };
}
