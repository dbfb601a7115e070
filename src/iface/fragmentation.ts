/**
 * IPv4 fragmentation on output (RFC 791 2.3 "Fragmentation", 3.2 "An
 * Example Fragmentation Procedure"). Pure: a header and payload in, packet
 * buffers out.
 */
import type { Ipv4Header } from '../wire/ipv4.js';
import { IPV4_HEADER_LEN, emitIpv4Header, ipv4Options } from '../wire/ipv4.js';
import { concatBytes } from '../wire/bytes.js';

export interface FragmentOptions {
  /** Free bytes to leave in front of each IP header, for the link header. Default 0. */
  readonly headroom?: number;
  /** Default true; false leaves the header checksums zero (a trusted link). */
  readonly computeChecksum?: boolean;
}

/**
 * RFC 791 3.1 "Options": only options with the copied flag (the high bit of
 * the type octet) are repeated in every fragment; the rest stay in the first.
 * Returns the options for non-first fragments, padded to 4 bytes with End of
 * List. A malformed option list is not copied at all.
 */
export function copiedOptions(options: Uint8Array): Uint8Array {
  if (options.length === 0) return options;
  const parts: Uint8Array[] = [];
  let len = 0;
  for (const r of ipv4Options(options)) {
    if (!r.ok) return new Uint8Array(0);
    const opt = r.value;
    if ((opt.type & 0x80) !== 0) {
      parts.push(options.subarray(opt.offset, opt.offset + opt.length));
      len += opt.length;
    }
  }
  return concatBytes(parts, Math.ceil(len / 4) * 4); // zero padding = End of List
}

/** How many payload bytes go into each full fragment: RFC 791 requires multiples of 8 except in the last. */
export function fragmentDataLen(mtu: number, headerLen: number): number {
  return Math.floor((mtu - headerLen) / 8) * 8;
}

/**
 * Splits a datagram (`header` plus `payload`) into packets of at most `mtu`
 * bytes each. Each returned buffer holds `headroom` free bytes, then a whole
 * IPv4 packet. A datagram that fits comes back as one unfragmented packet.
 *
 * The header may itself describe a fragment (a router forwarding one onto a
 * smaller link): offsets are then relative to its offset, and the last piece
 * keeps its More Fragments flag (RFC 791 3.2).
 *
 * Throws RangeError when the header has Don't Fragment set and the datagram
 * does not fit (the caller must send ICMP fragmentation needed or EMSGSIZE
 * instead), or when `mtu` cannot hold a header and 8 bytes of data.
 */
export function fragmentIpv4(
  header: Ipv4Header,
  payload: Uint8Array,
  mtu: number,
  opts: FragmentOptions = {},
): Uint8Array[] {
  const headroom = opts.headroom ?? 0;
  const emitOpts = { computeChecksum: opts.computeChecksum ?? true };
  const firstHeaderLen = IPV4_HEADER_LEN + header.options.length;
  if (firstHeaderLen + payload.length <= mtu) {
    const buf = new Uint8Array(headroom + firstHeaderLen + payload.length);
    emitIpv4Header(header, buf.subarray(headroom), payload.length, emitOpts);
    buf.set(payload, headroom + firstHeaderLen);
    return [buf];
  }
  if (header.dontFragment) {
    throw new RangeError(`fragmentIpv4: ${firstHeaderLen + payload.length} bytes exceed MTU ${mtu} with DF set`);
  }
  const laterOptions = copiedOptions(header.options);
  const laterHeaderLen = IPV4_HEADER_LEN + laterOptions.length;
  // RFC 791 3.2: every module must be able to forward 68-byte datagrams, i.e.
  // a 60-byte header plus 8 bytes of data; below that nothing can be sent.
  if (fragmentDataLen(mtu, Math.max(firstHeaderLen, laterHeaderLen)) < 8) {
    throw new RangeError(`fragmentIpv4: MTU ${mtu} cannot carry a ${firstHeaderLen}-byte header and 8 data bytes`);
  }
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < payload.length) {
    const first = at === 0;
    const options = first ? header.options : laterOptions;
    const headerLen = first ? firstHeaderLen : laterHeaderLen;
    const room = fragmentDataLen(mtu, headerLen);
    const n = Math.min(room, payload.length - at);
    const last = at + n >= payload.length;
    const buf = new Uint8Array(headroom + headerLen + n);
    emitIpv4Header(
      {
        ...header,
        options,
        fragmentOffset: header.fragmentOffset + at,
        moreFragments: last ? header.moreFragments : true,
      },
      buf.subarray(headroom),
      n,
      emitOpts,
    );
    buf.set(payload.subarray(at, at + n), headroom + headerLen);
    out.push(buf);
    at += n;
  }
  return out;
}
