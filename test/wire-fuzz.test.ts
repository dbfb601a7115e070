/**
 * Seeded fuzz / property test of every wire parser.
 *
 * Each generated packet goes to every parser (and, where it parses, its
 * payloads to the parsers of the next layer). For each parse we assert:
 *
 * - it does not throw;
 * - a failure carries a WireError reason;
 * - it neither writes its input nor depends on bytes outside it: the input
 *   sits in a larger buffer between margins of garbage, is parsed, the
 *   margins are replaced by their complement and it is parsed again, and the
 *   two results must be equal; every Uint8Array in a result must be a view
 *   inside the input; one packet in STRICT_EVERY is parsed through a Proxy
 *   that throws on any index read outside the view (which plain typed arrays
 *   would silently answer with undefined);
 * - parse -> emit -> parse is a fixed point: a successful parse emits
 *   (without throwing) bytes that parse again to an equal repr.
 *
 * Environment: FUZZ_PACKETS (default 1e6), FUZZ_SEED (default below),
 * FUZZ_CASE (replay the one case a failure message names).
 */
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { Prng, mix32 } from './helpers/prng.js';
import { linuxPackets } from './fixtures/linux-packets.js';
import { fromHex, readU16, readU32, toHex, writeU16 } from '../src/wire/bytes.js';
import { internetChecksum, pseudoHeaderSum } from '../src/wire/checksum.js';
import type { ParseResult, WireError } from '../src/wire/result.js';
import { EtherType, emitEthernet, ethernetBufferLen, parseEthernet } from '../src/wire/ethernet.js';
import { arpBufferLen, emitArp, parseArp } from '../src/wire/arp.js';
import { emitIpv4, ipv4BufferLen, parseIpv4 } from '../src/wire/ipv4.js';
import type { Ipv4Repr } from '../src/wire/ipv4.js';
import { emitIcmpv4, icmpv4BufferLen, isIcmpv4Other, parseIcmpQuote, parseIcmpv4 } from '../src/wire/icmpv4.js';
import type { Icmpv4Repr } from '../src/wire/icmpv4.js';
import { emitIgmp, igmpBufferLen, parseIgmp } from '../src/wire/igmp.js';
import type { IgmpRepr } from '../src/wire/igmp.js';
import { emitUdp, parseUdp, udpBufferLen } from '../src/wire/udp.js';
import { emitTcp, parseTcp, tcpBufferLen } from '../src/wire/tcp.js';
import type { TcpOption } from '../src/wire/tcp-options.js';

function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new TypeError(`${name} must be a non-negative integer, got ${v}`);
  return n;
}

const SEED = envInt('FUZZ_SEED', 0x5eed_0001) >>> 0;
const PACKETS = envInt('FUZZ_PACKETS', 1_000_000);
/**
 * The run's time limit grows with FUZZ_PACKETS, so a soak on demand is not
 * cut off by the suite's 120 s: about 30 us a packet on this 2-core machine,
 * allowed 250 us (a loaded machine), never less than the suite's limit.
 */
const FUZZ_TIMEOUT_MS = Math.max(120_000, Math.ceil(PACKETS / 1000) * 250);
const ONLY_CASE = process.env.FUZZ_CASE !== undefined && process.env.FUZZ_CASE !== '' ? envInt('FUZZ_CASE', 0) : undefined;
/** One case in this many is parsed through the bounds-checking Proxy (slow, so not all). */
const STRICT_EVERY = 32;
/** Longest generated input; the arena holds it plus the margins. */
const MAX_INPUT = 2048;
const MARGIN = 32;

/** Exhaustive on purpose: a new WireError member must be added here, or this file fails to compile. */
const WIRE_ERRORS: Record<WireError, true> = {
  truncated: true,
  'bad-version': true,
  'bad-header-length': true,
  'bad-length': true,
  'bad-checksum': true,
  'bad-option': true,
  'bad-address': true,
  'bad-type': true,
  'bad-fragment': true,
};
const isWireError = (r: unknown): boolean => typeof r === 'string' && Object.hasOwn(WIRE_ERRORS, r);

// ---------------------------------------------------------------- targets

interface Pseudo {
  readonly src: number;
  readonly dst: number;
}

/** One parser under test, with its emitter when the format has one. */
interface Target {
  readonly name: string;
  parse(bytes: Uint8Array, pseudo: Pseudo): ParseResult<unknown>;
  emit?(value: unknown, pseudo: Pseudo): Uint8Array;
}

function target<T>(
  name: string,
  parse: (bytes: Uint8Array, pseudo: Pseudo) => ParseResult<T>,
  emit?: (value: T, pseudo: Pseudo) => Uint8Array,
): Target {
  // The checker only hands emit values this target's parse produced.
  return emit === undefined ? { name, parse } : { name, parse, emit: (v, p) => emit(v as T, p) };
}

/** Emits into a buffer of exactly bufferLen bytes; the emitter must report that length. */
function emitExact(len: number, emit: (buf: Uint8Array) => number, into?: Uint8Array): Uint8Array {
  const buf = into ?? new Uint8Array(len);
  const n = emit(buf);
  if (n !== len) throw new Error(`emit wrote ${n} bytes, bufferLen said ${len}`);
  return buf;
}

/**
 * Like emitExact, into one reused buffer: the checker emits a parsed repr,
 * parses the result and drops both before the next emit, so nothing keeps a
 * view of it. Saves an allocation per parser run.
 */
const scratch = new Uint8Array(0x10000 + 64);
function emitScratch(len: number, emit: (buf: Uint8Array) => number): Uint8Array {
  return emitExact(len, emit, scratch.subarray(0, len));
}

const T = {
  ethernet: target('ethernet', (b) => parseEthernet(b), (r) => emitScratch(ethernetBufferLen(r), (buf) => emitEthernet(r, buf))),
  arp: target('arp', (b) => parseArp(b), (r) => emitScratch(arpBufferLen(r), (buf) => emitArp(r, buf))),
  ipv4: target('ipv4', (b) => parseIpv4(b), (r) => emitScratch(ipv4BufferLen(r), (buf) => emitIpv4(r, buf))),
  ipv4NoCheck: target(
    'ipv4 (no checksum)',
    (b) => parseIpv4(b, { verifyChecksum: false }),
    (r) => emitScratch(ipv4BufferLen(r), (buf) => emitIpv4(r, buf)),
  ),
  icmp: target('icmpv4', (b) => parseIcmpv4(b), (r) => emitScratch(icmpv4BufferLen(r), (buf) => emitIcmpv4(r, buf))),
  icmpNoCheck: target(
    'icmpv4 (no checksum)',
    (b) => parseIcmpv4(b, { verifyChecksum: false }),
    (r) => emitScratch(icmpv4BufferLen(r), (buf) => emitIcmpv4(r, buf)),
  ),
  quote: target('icmp quote', (b) => parseIcmpQuote(b)),
  igmp: target('igmp', (b) => parseIgmp(b), (r) => emitScratch(igmpBufferLen(r), (buf) => emitIgmp(r, buf))),
  igmpNoCheck: target(
    'igmp (no checksum)',
    (b) => parseIgmp(b, { verifyChecksum: false }),
    (r) => emitScratch(igmpBufferLen(r), (buf) => emitIgmp(r, buf)),
  ),
  udp: target('udp', (b, p) => parseUdp(b, p), (r, p) => emitScratch(udpBufferLen(r), (buf) => emitUdp(r, buf, p))),
  udpNoCheck: target('udp (no pseudo-header)', (b) => parseUdp(b), (r) => emitScratch(udpBufferLen(r), (buf) => emitUdp(r, buf))),
  tcp: target('tcp', (b, p) => parseTcp(b, p), (r, p) => emitScratch(tcpBufferLen(r), (buf) => emitTcp(r, buf, p))),
  tcpNoCheck: target('tcp (no pseudo-header)', (b) => parseTcp(b), (r) => emitScratch(tcpBufferLen(r), (buf) => emitTcp(r, buf))),
};
const ALL_TARGETS: readonly Target[] = Object.values(T);
const L3_TARGETS: readonly Target[] = [T.arp, T.ipv4, T.ipv4NoCheck];
const L4_TARGETS: readonly Target[] = [T.icmp, T.icmpNoCheck, T.quote, T.igmp, T.igmpNoCheck, T.udp, T.udpNoCheck, T.tcp, T.tcpNoCheck];

// ---------------------------------------------------------------- checker

class FuzzFailure extends Error {}

/** Thrown by the strict Proxy; a parser that reads out of bounds "throws" this. */
class OutOfBoundsRead extends Error {}

/**
 * A view that throws on an index read outside [0, length). Methods run on
 * the real array; subarrays they return are wrapped too.
 */
function strictView(target: Uint8Array): Uint8Array {
  return new Proxy(target, {
    get(t, key) {
      if (typeof key === 'string') {
        const i = Number(key);
        if (Number.isInteger(i) || key === '-0') {
          if (i < 0 || i >= t.length || key === '-0') {
            throw new OutOfBoundsRead(`read [${key}] of a ${t.length}-byte view`);
          }
          return t[i];
        }
      }
      const v: unknown = Reflect.get(t, key, t);
      if (typeof v === 'function') {
        return (...args: unknown[]): unknown => {
          const r: unknown = Reflect.apply(v, t, args);
          return r instanceof Uint8Array && key === 'subarray' ? strictView(r) : r;
        };
      }
      return v;
    },
  });
}

/** Structural equality for reprs: plain objects, arrays, byte views (by content), primitives. */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array) || a.length !== b.length) return false;
    // Views of the same bytes are equal; otherwise memcmp through fresh Buffers over the
    // underlying memory (which also bypasses the strict Proxy: this is the test reading).
    if (a.buffer === b.buffer && a.byteOffset === b.byteOffset) return true;
    if (a.length <= 16) {
      for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
      return true;
    }
    return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!same(a[i], b[i])) return false;
    return true;
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  let n = 0;
  for (const k in ra) {
    if (!Object.hasOwn(rb, k) || !same(ra[k], rb[k])) return false;
    n++;
  }
  for (const _ in rb) n--;
  return n === 0;
}

/**
 * The first problem with a parsed value, as a path and what is wrong there
 * (".payload is not a view inside the input"): a view outside the input, or
 * a number no field can hold. The path is built only on failure.
 */
function valueProblem(v: unknown, input: Uint8Array): string | undefined {
  if (typeof v === 'number') {
    // Every field is unsigned; a MAC address is the widest at 48 bits.
    return Number.isInteger(v) && v >= 0 && v < 2 ** 48 ? undefined : ` = ${v}`;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  if (v instanceof Uint8Array) {
    const inside =
      v.buffer === input.buffer &&
      v.byteOffset >= input.byteOffset &&
      v.byteOffset + v.byteLength <= input.byteOffset + input.byteLength;
    return inside ? undefined : ' is not a view inside the input';
  }
  const r = v as Record<string, unknown>;
  for (const k in r) {
    const p = valueProblem(r[k], input);
    if (p !== undefined) return `.${k}${p}`;
  }
  return undefined;
}

function describeResult(r: ParseResult<unknown>): string {
  return r.ok ? 'ok' : `fail '${r.reason}'`;
}

/** Runs every property for one parser on one input. Throws FuzzFailure. */
class Checker {
  private readonly arena = new Uint8Array(MAX_INPUT + 2 * MARGIN + 8);
  /** This case's margins: [left, right] as first placed, and their complements. */
  private readonly margins = [new Uint8Array(MARGIN), new Uint8Array(MARGIN)] as const;
  private readonly complements = [new Uint8Array(MARGIN), new Uint8Array(MARGIN)] as const;
  private readonly original = new Uint8Array(MAX_INPUT);
  checks = 0;
  /** Outcomes per parser ('tcp ok', 'tcp bad-option', ...), to see what the inputs reach. */
  readonly outcomes = new Map<string, number>();

  /** Sets this case's margin bytes. */
  newCase(rng: Prng): void {
    for (let side = 0; side < 2; side++) {
      const m = rng.fill(this.margins[side]!);
      const c = this.complements[side]!;
      for (let i = 0; i < MARGIN; i++) c[i] = m[i]! ^ 0xff; // every outside byte changes
    }
  }

  private fillMargins(start: number, len: number, complement: boolean): void {
    const [left, right] = complement ? this.complements : this.margins;
    this.arena.set(left, start - MARGIN);
    this.arena.set(right, start + len);
  }

  private marginsIntact(start: number, len: number, complement: boolean): boolean {
    const [left, right] = complement ? this.complements : this.margins;
    const a = this.arena;
    const r = start + len;
    const l = start - MARGIN;
    for (let i = 0; i < MARGIN; i++) if (a[l + i] !== left[i] || a[r + i] !== right[i]) return false;
    return true;
  }

  private parse(t: Target, view: Uint8Array, pseudo: Pseudo): ParseResult<unknown> {
    try {
      return t.parse(view, pseudo);
    } catch (e) {
      if (e instanceof OutOfBoundsRead) throw new FuzzFailure(`${t.name} read out of bounds: ${e.message}`);
      throw new FuzzFailure(`${t.name} threw ${String(e)}`);
    }
  }

  /** Returns the parse result (views into the arena: valid until the next check). */
  check(t: Target, input: Uint8Array, pseudo: Pseudo, strict: boolean, shift: number): ParseResult<unknown> {
    if (input.length > MAX_INPUT) throw new Error(`generator made ${input.length} bytes`);
    this.checks++;
    const start = MARGIN + shift;
    const len = input.length;
    this.arena.set(input, start);
    this.fillMargins(start, len, false);
    const view = this.arena.subarray(start, start + len);

    const r1 = this.parse(t, strict ? strictView(view) : view, pseudo);
    if (!this.marginsIntact(start, len, false)) throw new FuzzFailure(`${t.name} wrote outside its input`);
    if (strict) {
      // Parsing must not modify the packet (checked on strict cases only: it costs a pass over the bytes).
      this.original.set(input);
      for (let i = 0; i < len; i++) {
        if (view[i] !== this.original[i]) throw new FuzzFailure(`${t.name} modified its input at ${i}`);
      }
    }
    if (!r1.ok) {
      if (!isWireError(r1.reason)) throw new FuzzFailure(`${t.name} failed without a WireError: ${String(r1.reason)}`);
    } else {
      const problem = valueProblem(r1.value, view);
      if (problem !== undefined) throw new FuzzFailure(`${t.name}: value${problem}`);
    }

    const outcome = `${t.name} ${r1.ok ? 'ok' : r1.reason}`;
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);

    // Same bytes, different surroundings: the result must not change.
    this.fillMargins(start, len, true);
    const r2 = this.parse(t, view, pseudo);
    if (r1.ok !== r2.ok || !same(r1.ok ? r1.value : r1.reason, r2.ok ? r2.value : r2.reason)) {
      throw new FuzzFailure(`${t.name} depends on bytes outside its input: ${describeResult(r1)} vs ${describeResult(r2)}`);
    }

    if (r1.ok && t.emit !== undefined) {
      let out: Uint8Array;
      try {
        out = t.emit(r1.value, pseudo);
      } catch (e) {
        throw new FuzzFailure(`${t.name}: emitting a parsed repr threw ${String(e)}`);
      }
      const r3 = this.parse(t, out, pseudo);
      if (!r3.ok) throw new FuzzFailure(`${t.name}: re-emitted bytes ${toHex(out)} fail to parse: '${r3.reason}'`);
      if (!same(r1.value, r3.value)) throw new FuzzFailure(`${t.name}: parse -> emit -> parse is not a fixed point (${toHex(out)})`);
    }
    return r1;
  }
}

// ---------------------------------------------------------------- seeds

/** A valid packet to mutate, and where its layers start (-1: absent). */
interface Seed {
  readonly bytes: Uint8Array;
  /** Offset of the IPv4 header. */
  readonly ip: number;
  /** Offset of the transport header (TCP/UDP/ICMP), -1 for none or a non-first fragment. */
  readonly l4: number;
  readonly protocol: number;
  readonly pseudo: Pseudo;
}

function seedsOf(frame: Uint8Array): Seed[] {
  const none: Pseudo = { src: 0, dst: 0 };
  const out: Seed[] = [{ bytes: frame, ip: -1, l4: -1, protocol: -1, pseudo: none }];
  const eth = parseEthernet(frame);
  if (!eth.ok) return out;
  if (eth.value.ethertype === EtherType.Arp) {
    out.push({ bytes: eth.value.payload, ip: -1, l4: -1, protocol: -1, pseudo: none });
    return out;
  }
  const ip = parseIpv4(eth.value.payload);
  if (!ip.ok) return out;
  const v = ip.value;
  const pseudo = { src: v.src, dst: v.dst };
  const ihl = v.options.length + 20;
  const first = v.fragmentOffset === 0;
  out[0] = { bytes: frame, ip: 14, l4: first ? 14 + ihl : -1, protocol: v.protocol, pseudo };
  const ipBytes = eth.value.payload.subarray(0, ihl + v.payload.length);
  out.push({ bytes: ipBytes, ip: 0, l4: first ? ihl : -1, protocol: v.protocol, pseudo });
  if (first && !v.moreFragments) out.push({ bytes: v.payload, ip: -1, l4: 0, protocol: v.protocol, pseudo });
  return out;
}

const FIXTURE_SEEDS: readonly Seed[] = linuxPackets.flatMap((f) => seedsOf(fromHex(f.hex)));

// ---------------------------------------------------------------- fresh packets

const INTERESTING = [0, 1, 2, 3, 4, 7, 8, 10, 0x7f, 0x80, 0xfe, 0xff] as const;

function tcpOptionLen(o: TcpOption): number {
  switch (o.kind) {
    case 'eol':
    case 'nop':
      return 1;
    case 'mss':
      return 4;
    case 'window-scale':
      return 3;
    case 'sack-permitted':
      return 2;
    case 'timestamps':
      return 10;
    case 'sack':
      return 2 + 8 * o.blocks.length;
    case 'unknown':
      return 2 + o.data.length;
  }
}

function randomTcpOptions(rng: Prng): TcpOption[] {
  const out: TcpOption[] = [];
  let room = 40;
  const n = rng.int(8);
  for (let i = 0; i < n; i++) {
    const o: TcpOption = rng.pick<() => TcpOption>([
      () => ({ kind: 'nop' }),
      () => ({ kind: 'mss', value: rng.int(0x10000) }),
      () => ({ kind: 'window-scale', shift: rng.int(256) }),
      () => ({ kind: 'sack-permitted' }),
      () => ({ kind: 'timestamps', tsVal: rng.u32(), tsEcr: rng.u32() }),
      () => ({ kind: 'sack', blocks: Array.from({ length: rng.range(1, 4) }, () => ({ left: rng.u32(), right: rng.u32() })) }),
      () => ({ kind: 'unknown', type: rng.pick([6, 19, 30, 34, 99, 253, 254]), data: rng.bytes(rng.int(12)) }),
    ])();
    const len = tcpOptionLen(o);
    if (len > room) continue;
    out.push(o);
    room -= len;
  }
  if (room > 0 && rng.chance(0.2)) out.push({ kind: 'eol' });
  return out;
}

function smallPayload(rng: Prng): Uint8Array {
  return rng.bytes(rng.chance(0.8) ? rng.int(48) : rng.int(600));
}

function freshTransport(rng: Prng, protocol: number, pseudo: Pseudo): Uint8Array {
  if (protocol === 6) {
    const repr = {
      srcPort: rng.int(0x10000),
      dstPort: rng.int(0x10000),
      seq: rng.u32(),
      ack: rng.u32(),
      flags: rng.int(256),
      window: rng.int(0x10000),
      urgentPointer: rng.chance(0.9) ? 0 : rng.int(0x10000),
      options: randomTcpOptions(rng),
      payload: smallPayload(rng),
      ...(rng.chance(0.1) ? { reserved: rng.range(1, 15) } : {}),
    };
    return emitExact(tcpBufferLen(repr), (b) => emitTcp(repr, b, pseudo));
  }
  if (protocol === 17) {
    const repr = { srcPort: rng.int(0x10000), dstPort: rng.int(0x10000), payload: smallPayload(rng) };
    return emitExact(udpBufferLen(repr), (b) => emitUdp(repr, b, rng.chance(0.9) ? pseudo : undefined));
  }
  if (protocol === 2) return freshIgmp(rng);
  let repr: Icmpv4Repr;
  switch (rng.int(4)) {
    case 0:
      repr = { type: rng.chance(0.5) ? 8 : 0, identifier: rng.int(0x10000), sequence: rng.int(0x10000), data: smallPayload(rng) };
      break;
    case 1:
      repr = { type: 3, code: rng.int(16), nextHopMtu: rng.int(0x10000), quoted: freshIpv4(rng, rng.pick([6, 17]), true).subarray(0, rng.range(20, 64)) };
      break;
    case 2:
      repr = { type: 11, code: rng.int(2), quoted: freshIpv4(rng, rng.pick([1, 6, 17]), true).subarray(0, rng.range(0, 80)) };
      break;
    default:
      repr = { type: rng.pick([4, 5, 9, 12, 13, 40, 255]), code: rng.int(256), rest: rng.u32(), data: smallPayload(rng) };
  }
  return emitExact(icmpv4BufferLen(repr), (b) => emitIcmpv4(repr, b));
}

function freshIgmp(rng: Prng): Uint8Array {
  const addrs = (): number[] => Array.from({ length: rng.chance(0.7) ? 0 : rng.range(1, 5) }, () => rng.u32());
  let repr: IgmpRepr;
  switch (rng.int(3)) {
    case 0: {
      const version = rng.pick([1, 2, 3] as const);
      repr = {
        type: 0x11,
        version,
        maxRespCode: version === 1 ? 0 : rng.range(1, 256),
        group: rng.u32(),
        suppressRouterSide: version === 3 && rng.chance(0.5),
        robustness: version === 3 ? rng.int(8) : 0,
        queryIntervalCode: version === 3 ? rng.int(256) : 0,
        sources: version === 3 ? addrs() : [],
      };
      break;
    }
    case 1:
      repr = { type: rng.pick([0x12, 0x16, 0x17] as const), group: rng.u32() };
      break;
    default:
      repr = {
        type: 0x22,
        records: Array.from({ length: rng.int(4) }, () => ({
          recordType: rng.range(1, 7),
          group: rng.u32(),
          sources: addrs(),
          auxData: rng.bytes(4 * (rng.chance(0.8) ? 0 : rng.range(1, 3))),
        })),
      };
  }
  return emitExact(igmpBufferLen(repr), (b) => emitIgmp(repr, b));
}

function randomIpv4Options(rng: Prng): Uint8Array {
  if (rng.chance(0.7)) return new Uint8Array(0);
  const opts = new Uint8Array(4 * rng.range(1, 10));
  if (rng.chance(0.5)) return rng.fill(opts);
  // Record Route shaped: type 7, length, pointer, addresses.
  opts[0] = 1;
  opts[1] = 7;
  opts[2] = Math.min(opts.length - 1, 3 + 4 * rng.int(9));
  opts[3] = 4 + 4 * rng.int(3);
  return opts;
}

function freshIpv4(rng: Prng, protocol: number, whole = false): Uint8Array {
  const pseudo = { src: rng.u32(), dst: rng.u32() };
  const fragment = !whole && rng.chance(0.15);
  const repr: Ipv4Repr = {
    src: pseudo.src,
    dst: pseudo.dst,
    protocol,
    ttl: rng.int(256),
    dscp: rng.int(64),
    ecn: rng.int(4),
    identification: rng.int(0x10000),
    dontFragment: rng.chance(0.5),
    moreFragments: fragment && rng.chance(0.5),
    fragmentOffset: fragment ? 8 * rng.int(8192 - 200) : 0,
    options: randomIpv4Options(rng),
    payload: freshTransport(rng, protocol, pseudo),
  };
  return emitExact(ipv4BufferLen(repr), (b) => emitIpv4(repr, b));
}

function freshSeed(rng: Prng): Seed {
  const none: Pseudo = { src: 0, dst: 0 };
  const mac = (): number => rng.u32() * 0x10000 + rng.int(0x10000);
  if (rng.chance(0.1)) {
    const arp = { operation: rng.chance(0.5) ? 1 : 2, senderMac: mac(), senderIp: rng.u32(), targetMac: mac(), targetIp: rng.u32() } as const;
    const payload = emitExact(arpBufferLen(arp), (b) => emitArp(arp, b));
    const eth = { dst: mac(), src: mac(), ethertype: EtherType.Arp, payload };
    return { bytes: emitExact(ethernetBufferLen(eth, { minFrameLen: 60 }), (b) => emitEthernet(eth, b, { minFrameLen: 60 })), ip: -1, l4: -1, protocol: -1, pseudo: none };
  }
  const protocol = rng.pick([1, 2, 6, 6, 17]);
  const ipBytes = freshIpv4(rng, protocol);
  const ip = parseIpv4(ipBytes);
  if (!ip.ok) throw new Error(`freshIpv4 made an unparsable packet: ${ip.reason}`);
  const v = ip.value;
  const pseudo = { src: v.src, dst: v.dst };
  const ihl = 20 + v.options.length;
  const l4 = v.fragmentOffset === 0 ? ihl : -1;
  switch (rng.int(3)) {
    case 0: {
      const eth = { dst: mac(), src: mac(), ethertype: EtherType.Ipv4, payload: ipBytes };
      const bytes = emitExact(ethernetBufferLen(eth, { minFrameLen: 60 }), (b) => emitEthernet(eth, b, { minFrameLen: 60 }));
      return { bytes, ip: 14, l4: l4 < 0 ? -1 : 14 + l4, protocol, pseudo };
    }
    case 1:
      return { bytes: ipBytes, ip: 0, l4, protocol, pseudo };
    default:
      return l4 < 0 ? { bytes: ipBytes, ip: 0, l4, protocol, pseudo } : { bytes: v.payload, ip: -1, l4: 0, protocol, pseudo };
  }
}

// ---------------------------------------------------------------- mutations

/** Fixes the transport and IPv4 checksums after a mutation, where the headers still allow it. */
function fixChecksums(b: Uint8Array, s: Seed): void {
  const len = b.length;
  let l4End = len;
  let pseudo = s.pseudo;
  if (s.ip >= 0 && s.ip + 20 <= len) {
    const total = readU16(b, s.ip + 2);
    l4End = Math.min(len, s.ip + total);
    pseudo = { src: readU32(b, s.ip + 12), dst: readU32(b, s.ip + 16) };
  }
  if (s.l4 >= 0 && s.l4 < l4End) {
    const seg = b.subarray(s.l4, l4End);
    if (s.protocol === 6 && seg.length >= 20) {
      writeU16(seg, 16, 0);
      writeU16(seg, 16, internetChecksum(seg, pseudoHeaderSum(pseudo.src, pseudo.dst, 6, seg.length)));
    } else if (s.protocol === 17 && seg.length >= 8) {
      const ulen = readU16(seg, 4);
      if (ulen >= 8 && ulen <= seg.length) {
        writeU16(seg, 6, 0);
        writeU16(seg, 6, internetChecksum(seg.subarray(0, ulen), pseudoHeaderSum(pseudo.src, pseudo.dst, 17, ulen)));
      }
    } else if ((s.protocol === 1 || s.protocol === 2) && seg.length >= 8) {
      writeU16(seg, 2, 0);
      writeU16(seg, 2, internetChecksum(seg));
    }
  }
  if (s.ip >= 0 && s.ip + 20 <= len) {
    const ihl = (b[s.ip]! & 15) * 4;
    if (ihl >= 20 && s.ip + ihl <= len) {
      writeU16(b, s.ip + 10, 0);
      writeU16(b, s.ip + 10, internetChecksum(b.subarray(s.ip, s.ip + ihl)));
    }
  }
}

function setU16(b: Uint8Array, at: number, v: number): void {
  if (at >= 0 && at + 2 <= b.length) writeU16(b, at, v);
}

/** A 16-bit length near the interesting edges for a field describing `actual` bytes. */
function bogusLength(rng: Prng, actual: number): number {
  return rng.pick([0, 1, 7, 8, 19, 20, 21, actual - 1, actual, actual + 1, actual + 8, 0xffff, rng.int(0x10000)]) & 0xffff;
}

type Mutation = (rng: Prng, b: Uint8Array, s: Seed) => Uint8Array;

const MUTATIONS: readonly Mutation[] = [
  // Flip a few random bits.
  (rng, b) => {
    for (let n = rng.range(1, 8); n > 0 && b.length > 0; n--) b[rng.int(b.length)]! ^= 1 << rng.int(8);
    return b;
  },
  // Set a byte to an interesting value, mostly in the first 80 (header) bytes.
  (rng, b) => {
    if (b.length > 0) b[rng.int(Math.min(b.length, rng.chance(0.8) ? 80 : b.length))] = rng.pick(INTERESTING);
    return b;
  },
  // Cut.
  (rng, b) => b.subarray(0, rng.int(b.length + 1)),
  // Extend with random bytes or zeros (link padding).
  (rng, b) => {
    const extra = rng.range(1, 64);
    const out = new Uint8Array(Math.min(MAX_INPUT, b.length + extra));
    out.set(b.subarray(0, out.length));
    if (rng.chance(0.5)) rng.fill(out.subarray(b.length));
    return out;
  },
  // IPv4: bogus IHL.
  (rng, b, s) => {
    if (s.ip >= 0 && s.ip < b.length) b[s.ip] = (b[s.ip]! & 0xf0) | rng.int(16);
    return b;
  },
  // IPv4: bogus version.
  (rng, b, s) => {
    if (s.ip >= 0 && s.ip < b.length) b[s.ip] = (rng.int(16) << 4) | (b[s.ip]! & 15);
    return b;
  },
  // IPv4: bogus total length.
  (rng, b, s) => {
    if (s.ip >= 0) setU16(b, s.ip + 2, bogusLength(rng, b.length - s.ip));
    return b;
  },
  // IPv4: bogus flags and fragment offset (near the 65535 limit too).
  (rng, b, s) => {
    if (s.ip >= 0) setU16(b, s.ip + 6, rng.chance(0.5) ? rng.int(0x10000) : (rng.int(8) << 13) | (0x1fff - rng.int(200)));
    return b;
  },
  // TCP: bogus data offset.
  (rng, b, s) => {
    if (s.protocol === 6 && s.l4 >= 0 && s.l4 + 12 < b.length) b[s.l4 + 12] = (rng.int(16) << 4) | (b[s.l4 + 12]! & 15);
    return b;
  },
  // TCP options area: kind and length bytes set to edge values, lengths running past the end.
  (rng, b, s) => {
    if (s.protocol !== 6 || s.l4 < 0 || s.l4 + 13 > b.length) return b;
    const doff = (b[s.l4 + 12]! >>> 4) * 4;
    const start = s.l4 + 20;
    const end = Math.min(b.length, s.l4 + Math.max(doff, 24));
    if (rng.chance(0.3) && doff < 24) b[s.l4 + 12] = (rng.range(6, 15) << 4) | (b[s.l4 + 12]! & 15);
    for (let n = rng.range(1, 4); n > 0 && end > start; n--) {
      const at = start + rng.int(end - start);
      const kind = rng.pick([0, 1, 2, 3, 4, 5, 8, 19, 34, 254, 255, rng.int(256)]);
      b[at] = kind;
      if (at + 1 < b.length) b[at + 1] = rng.pick([0, 1, 2, 3, 4, 8, 10, 18, 26, 34, 255, end - at, end - at + 1, rng.int(256)]) & 0xff;
    }
    return b;
  },
  // TCP options area rewritten as a random sequence of kind/length tokens.
  (rng, b, s) => {
    if (s.protocol !== 6 || s.l4 < 0 || s.l4 + 20 > b.length) return b;
    const words = rng.range(1, 10);
    const area = Math.min(words * 4, b.length - s.l4 - 20);
    b[s.l4 + 12] = ((5 + words) << 4) | (b[s.l4 + 12]! & 15);
    let at = s.l4 + 20;
    const end = at + area;
    while (at < end) {
      const kind = rng.pick([0, 1, 1, 2, 3, 4, 5, 8, 254, 255]);
      b[at++] = kind;
      if (at < end && kind > 1) b[at++] = rng.pick([0, 1, 2, 3, 4, 10, 18, 255, end - at + 2, end - at + 3]) & 0xff;
      if (at < end && rng.chance(0.5)) at += rng.int(Math.min(9, end - at));
    }
    return b;
  },
  // UDP: bogus length.
  (rng, b, s) => {
    if (s.protocol === 17 && s.l4 >= 0) setU16(b, s.l4 + 4, bogusLength(rng, b.length - s.l4));
    return b;
  },
  // ICMP: another type or code, or a damaged quote header.
  (rng, b, s) => {
    if (s.protocol !== 1 || s.l4 < 0 || s.l4 + 8 > b.length) return b;
    switch (rng.int(3)) {
      case 0:
        b[s.l4] = rng.pick([0, 3, 4, 5, 8, 11, 12, 13, rng.int(256)]);
        break;
      case 1:
        b[s.l4 + 1] = rng.int(256);
        break;
      default: {
        const q = s.l4 + 8;
        if (q < b.length) b[q] = rng.pick([0x45, 0x40, 0x4f, 0x46, 0x35, rng.int(256)]);
        setU16(b, q + 2, bogusLength(rng, b.length - q));
        setU16(b, q + 6, rng.int(0x10000));
      }
    }
    return b;
  },
];

/** Structure-aware mutations are drawn more often than their share of the list. */
function mutate(rng: Prng, seed: Seed): Uint8Array {
  let b: Uint8Array = seed.bytes.slice();
  for (let n = rng.range(1, 3); n > 0; n--) b = rng.pick(MUTATIONS)(rng, b, seed);
  if (rng.chance(0.5)) fixChecksums(b, seed);
  return b;
}

function randomBytes(rng: Prng): Uint8Array {
  return rng.bytes(rng.chance(0.7) ? rng.int(129) : rng.int(1601));
}

// ---------------------------------------------------------------- one case

interface CaseInput {
  readonly kind: string;
  readonly bytes: Uint8Array;
  readonly pseudo: Pseudo;
}

function generate(rng: Prng): CaseInput {
  const r = rng.int(100);
  if (r < 15) return { kind: 'random bytes', bytes: randomBytes(rng), pseudo: { src: rng.u32(), dst: rng.u32() } };
  const seed = rng.chance(0.5) ? rng.pick(FIXTURE_SEEDS) : freshSeed(rng);
  if (r < 30) return { kind: 'valid packet', bytes: seed.bytes, pseudo: seed.pseudo };
  return { kind: 'mutated packet', bytes: mutate(rng, seed), pseudo: seed.pseudo };
}

function caseRng(index: number): Prng {
  return new Prng(mix32(SEED ^ mix32(index + 1)));
}

/**
 * Feeds one input to every parser, then descends: an Ethernet payload to the
 * layer-3 parsers, an IPv4 payload to the transport parsers (with the
 * packet's own pseudo-header), an ICMP error's quote to the quote and IPv4
 * parsers. Returns the number of parser runs.
 */
function runCase(checker: Checker, index: number): CaseInput {
  const rng = caseRng(index);
  const input = generate(rng);
  checker.newCase(rng);
  const strict = index % STRICT_EVERY === 0;
  const shift = rng.int(8);
  const feed = (targets: readonly Target[], bytes: Uint8Array, pseudo: Pseudo): void => {
    for (const t of targets) checker.check(t, bytes, pseudo, strict, shift);
  };
  feed(ALL_TARGETS, input.bytes, input.pseudo);

  let l3: Uint8Array | undefined;
  const eth = parseEthernet(input.bytes);
  if (eth.ok && input.bytes.length > 14) {
    l3 = eth.value.payload;
    feed(L3_TARGETS, l3, input.pseudo);
  }
  for (const candidate of [l3, input.bytes]) {
    if (candidate === undefined) continue;
    const ip = parseIpv4(candidate, { verifyChecksum: false });
    if (!ip.ok || ip.value.fragmentOffset !== 0) continue;
    const pseudo = { src: ip.value.src, dst: ip.value.dst };
    feed(L4_TARGETS, ip.value.payload, pseudo);
    const icmp = parseIcmpv4(ip.value.payload, { verifyChecksum: false });
    if (icmp.ok && !isIcmpv4Other(icmp.value) && 'quoted' in icmp.value) {
      feed([T.quote, T.ipv4NoCheck], icmp.value.quoted, pseudo);
    }
    break; // the Ethernet payload is the real layer 3 when there is one
  }
  return input;
}

// ---------------------------------------------------------------- tests

function replayHint(index: number): string {
  return `FUZZ_SEED=${SEED} FUZZ_CASE=${index} npx vitest run test/wire-fuzz.test.ts`;
}

describe('wire parser fuzz', () => {
  it('the checker catches broken parsers', () => {
    const checker = new Checker();
    checker.newCase(new Prng(1));
    const pseudo = { src: 0, dst: 0 };
    // A 20-byte IPv4 header and two bytes of link padding.
    const input = fromHex('45000014000000004006000001020304050607080000');
    writeU16(input, 10, internetChecksum(input.subarray(0, 20)));
    const expectCaught = (t: Target, strict: boolean, pattern: RegExp): void => {
      expect(() => checker.check(t, input, pseudo, strict, 3)).toThrow(pattern);
    };
    const peekPast = (b: Uint8Array): number => new DataView(b.buffer, b.byteOffset, b.byteLength + 1).getUint8(b.byteLength);
    expectCaught(target('throws', () => { throw new RangeError('boom'); }), false, /threw RangeError: boom/);
    expectCaught(target('bad reason', () => ({ ok: false, reason: 'nope' as WireError })), false, /without a WireError/);
    expectCaught(target('reads the byte after', (b) => ({ ok: true, value: { x: peekPast(b) } })), false, /depends on bytes outside/);
    expectCaught(target('index past end', (b) => ({ ok: true, value: { x: b[b.length] ?? 0 } })), true, /out of bounds/);
    expectCaught(target('copies payload', (b) => ({ ok: true, value: { payload: b.slice(1) } })), false, /not a view inside/);
    expectCaught(target('writes input', (b) => { b[0] = 0; return { ok: true, value: {} }; }), true, /modified its input/);
    expectCaught(target('writes margin', (b) => { new Uint8Array(b.buffer, b.byteOffset - 1, 1)[0]! ^= 1; return { ok: true, value: {} }; }), false, /wrote outside/);
    expectCaught(target('NaN field', () => ({ ok: true, value: { n: NaN } })), false, /value\.n = NaN/);
    expectCaught(
      target('lossy emit', (b) => ({ ok: true, value: { first: b[0] ?? 0 } }), () => new Uint8Array([1])),
      false,
      /not a fixed point/,
    );
    // And a correct parser passes.
    expect(checker.check(T.ipv4, input, pseudo, true, 0).ok).toBe(true);
  });

  it('every fixture passes the checker unmutated', () => {
    const checker = new Checker();
    checker.newCase(new Prng(2));
    for (const s of FIXTURE_SEEDS) {
      for (const t of ALL_TARGETS) checker.check(t, s.bytes, s.pseudo, true, 1);
    }
    // Sanity: the seeds are what they claim (transport seeds parse with their pseudo-header).
    for (const s of FIXTURE_SEEDS.filter((x) => x.ip < 0 && x.l4 === 0)) {
      const t = s.protocol === 6 ? T.tcp : s.protocol === 17 ? T.udp : T.icmp;
      expect(t.parse(s.bytes, s.pseudo).ok).toBe(true);
    }
  });

  it(`survives ${ONLY_CASE !== undefined ? `case ${ONLY_CASE}` : `${PACKETS} packets`} (seed ${SEED})`, () => {
    const checker = new Checker();
    const first = ONLY_CASE ?? 0;
    const end = ONLY_CASE !== undefined ? ONLY_CASE + 1 : PACKETS;
    const kinds = new Map<string, number>();
    const started = performance.now();
    for (let i = first; i < end; i++) {
      let input: CaseInput | undefined;
      try {
        input = runCase(checker, i);
      } catch (e) {
        const again = generate(caseRng(i));
        const msg = e instanceof Error ? e.message : String(e);
        throw new Error(
          `fuzz case ${i} (seed ${SEED}, ${again.kind}, ${again.bytes.length} bytes) failed: ${msg}\n` +
            `input: ${toHex(again.bytes)}\nreplay: ${replayHint(i)}`,
          { cause: e },
        );
      }
      kinds.set(input.kind, (kinds.get(input.kind) ?? 0) + 1);
    }
    const seconds = (performance.now() - started) / 1000;
    const n = end - first;
    console.log(
      `wire fuzz: seed ${SEED}, ${n} packets (${[...kinds].map(([k, c]) => `${c} ${k}`).join(', ')}), ` +
        `${checker.checks} parser runs in ${seconds.toFixed(1)} s: ` +
        `${Math.round(n / seconds)} packets/s, ${Math.round(checker.checks / seconds)} parser runs/s`,
    );
    if (process.env.FUZZ_VERBOSE !== undefined) {
      console.log([...checker.outcomes].sort().map(([k, c]) => `  ${k}: ${c}`).join('\n'));
    }
    expect(checker.checks).toBeGreaterThanOrEqual(n * ALL_TARGETS.length);
    if (ONLY_CASE === undefined && n >= 10_000) {
      // The generator must reach deep into every parser, not just bounce off length checks.
      for (const t of ALL_TARGETS) expect(checker.outcomes.get(`${t.name} ok`) ?? 0, t.name).toBeGreaterThan(n / 200);
      for (const reason of ['bad-option', 'bad-header-length', 'bad-length', 'bad-checksum', 'bad-version', 'truncated']) {
        expect(checker.outcomes.get(`tcp ${reason}`) ?? checker.outcomes.get(`ipv4 ${reason}`) ?? 0, reason).toBeGreaterThan(0);
      }
    }
  }, FUZZ_TIMEOUT_MS);
});
