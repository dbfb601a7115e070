/**
 * RFC 6528 initial sequence numbers:
 *
 *   ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
 *
 * M is a timer ticking every 4 microseconds (RFC 6528 3, after RFC 793's
 * ISN clock), taken from the `now` the caller passes; F is SipHash-2-4 (a
 * keyed PRF, as RFC 6528 3 asks: "F() MUST NOT be computable from the
 * outside") under a 128-bit key drawn once from the injected Rng, truncated
 * to its low 32 bits. So the ISNs of one 4-tuple advance with time like the
 * RFC 793 clock (keeping old duplicates of an earlier incarnation out of the
 * new window), while an off-path attacker cannot predict any tuple's ISN
 * from another's.
 *
 * API:
 *   const isns = new IsnGenerator(rng);        // rng: { nextU32(): number }
 *   isns.isn(now, localAddr, localPort, remoteAddr, remotePort): SeqNumber
 *
 * The Rng draws happen in the constructor only (four nextU32 calls), so a
 * seeded simulation stays reproducible. RFC 6528 3 suggests rotating the key
 * from time to time; that would break the monotonic property for a tuple,
 * so, like Linux, we keep one key per generator (per stack).
 */
import type { Rng } from '../random/rng.js';
import type { Instant } from '../time/instant.js';
import type { Ipv4Address } from '../wire/address.js';
import type { SeqNumber } from './seq.js';
import { seqAdd } from './seq.js';
import type { SipHashKey } from './siphash.js';
import { sipHash24, sipHashKeyFromWords } from './siphash.js';

/** RFC 6528 3: M, the 4-microsecond timer, modulo 2^32. */
export function isnClock(now: Instant): number {
  return Math.floor(now / 4) % 0x1_0000_0000;
}

export class IsnGenerator {
  readonly #key: SipHashKey;
  // The 12-byte tuple, in network order; reused, never escapes.
  readonly #msg = new Uint8Array(12);
  readonly #view = new DataView(this.#msg.buffer, this.#msg.byteOffset, this.#msg.byteLength);
  readonly #tsMsg = new Uint8Array(8);
  readonly #tsView = new DataView(this.#tsMsg.buffer, this.#tsMsg.byteOffset, this.#tsMsg.byteLength);
  /** tsOffset's last address pair and answer (-1: none yet). */
  #tsLocal = 0;
  #tsRemote = 0;
  #tsValue = -1;

  constructor(rng: Pick<Rng, 'nextU32'>) {
    this.#key = sipHashKeyFromWords(rng.nextU32(), rng.nextU32(), rng.nextU32(), rng.nextU32());
  }

  /** The ISN for a new connection on this 4-tuple at time `now` (RFC 6528 3). */
  isn(now: Instant, localAddr: Ipv4Address, localPort: number, remoteAddr: Ipv4Address, remotePort: number): SeqNumber {
    return seqAdd(isnClock(now), this.offset(localAddr, localPort, remoteAddr, remotePort));
  }

  /**
   * The RFC 7323 5.4 timestamp offset for an address pair, as Linux
   * (secure_tcp_ts_off) keys it: on the addresses only, not the ports, so
   * every incarnation of a 4-tuple (and every connection between the two
   * hosts) shares one TSval clock. TSvals then grow across a TIME-WAIT
   * reuse, which is what RFC 6191 checks. The 8-byte message cannot collide
   * with the 12-byte ISN message under SipHash, so the two stay independent.
   */
  tsOffset(localAddr: Ipv4Address, remoteAddr: Ipv4Address): number {
    // The last pair's answer is kept: a host's connections mostly go to one
    // peer, and every connection asked for it (issue 9, tcp-connect).
    if (this.#tsValue >= 0 && this.#tsLocal === localAddr && this.#tsRemote === remoteAddr) return this.#tsValue;
    const v = this.#tsView;
    v.setUint32(0, localAddr >>> 0);
    v.setUint32(4, remoteAddr >>> 0);
    const off = sipHash24(this.#key, this.#tsMsg).lo >>> 0;
    this.#tsLocal = localAddr;
    this.#tsRemote = remoteAddr;
    this.#tsValue = off;
    return off;
  }

  /** F(): the keyed, time-independent part of the ISN for a 4-tuple (uint32). */
  offset(localAddr: Ipv4Address, localPort: number, remoteAddr: Ipv4Address, remotePort: number): number {
    const v = this.#view;
    v.setUint32(0, localAddr >>> 0);
    v.setUint16(4, localPort & 0xffff);
    v.setUint32(6, remoteAddr >>> 0);
    v.setUint16(10, remotePort & 0xffff);
    return sipHash24(this.#key, this.#msg).lo;
  }
}
