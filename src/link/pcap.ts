/**
 * Classic libpcap capture files (the format of `tcpdump -w`, readable by
 * Wireshark/tshark), written to any byte sink, so it runs in every runtime:
 * Node writes the chunks to a file (src/node/pcap-file.ts), a browser may
 * collect them into a Blob.
 *
 * The format (draft-ietf-opsawg-pcap, "PCAP Capture File Format"):
 *
 *   file header, 24 bytes (section 4):
 *     magic u32      0xa1b2c3d4 (microsecond timestamps) or 0xa1b23c4d
 *                    (nanosecond); read in the writer's byte order, so it
 *                    also tells the reader which order the file uses
 *     major u16 = 2, minor u16 = 4
 *     reserved1 (historically thiszone) i32, reserved2 (sigfigs) u32: 0
 *     snaplen u32    the most bytes captured of any one packet
 *     linktype u32   LINKTYPE_ETHERNET = 1, LINKTYPE_RAW = 101, ...
 *   then per packet a 16-byte record header (section 5):
 *     seconds u32, fraction u32 (us or ns), captured length u32,
 *     original length u32, followed by the captured bytes.
 */
import type { Instant } from '../time/instant.js';
import { dataView } from '../wire/bytes.js';
import type { ParseResult } from '../wire/result.js';
import { fail, ok } from '../wire/result.js';
import type { LinkType } from './link.js';

export const PCAP_MAGIC_MICROS = 0xa1b2c3d4;
export const PCAP_MAGIC_NANOS = 0xa1b23c4d;
export const PCAP_FILE_HEADER_LEN = 24;
export const PCAP_RECORD_HEADER_LEN = 16;
/** tcpdump's default snapshot length: whole packets, even 64 KiB GSO ones. */
export const PCAP_DEFAULT_SNAPLEN = 262_144;

export type PcapResolution = 'us' | 'ns';
export type PcapByteOrder = 'little' | 'big';

export interface PcapWriterOptions {
  /** What the frames start with (the file header's LINKTYPE). */
  readonly linkType: LinkType;
  /** Timestamp fraction unit. Default 'us'. Instants are microseconds, so 'ns' files have 000 nanoseconds. */
  readonly resolution?: PcapResolution;
  /** Frames longer than this are cut to it (the original length is still recorded). Default 262144. */
  readonly snaplen?: number;
  /**
   * Byte order of the header fields. Readers detect it from the magic
   * number; little-endian (the default) is what tcpdump writes on x86/ARM.
   */
  readonly byteOrder?: PcapByteOrder;
}

/** Largest seconds field: timestamps are u32 seconds (the year 2106 problem). */
const MAX_INSTANT = 0x1_0000_0000 * 1_000_000 - 1;

/**
 * Writes a pcap stream to `sink`. The file header goes out from the
 * constructor (an empty capture is still a valid file); each packet is one
 * chunk, record header and bytes together, freshly allocated so the sink
 * may keep it. Writing copies the frame synchronously: the caller may reuse
 * or hand off its buffer as soon as writePacket returns.
 */
export class PcapWriter {
  readonly linkType: LinkType;
  readonly resolution: PcapResolution;
  readonly snaplen: number;
  readonly byteOrder: PcapByteOrder;
  readonly #sink: (chunk: Uint8Array) => void;
  readonly #little: boolean;
  #frames = 0;
  #frameBytes = 0;
  #capturedBytes = 0;
  #truncatedFrames = 0;
  #bytesWritten = 0;

  constructor(sink: (chunk: Uint8Array) => void, options: PcapWriterOptions) {
    const snaplen = options.snaplen ?? PCAP_DEFAULT_SNAPLEN;
    if (!Number.isInteger(snaplen) || snaplen < 1 || snaplen > 0xffffffff) {
      throw new RangeError(`PcapWriter: snaplen must be an integer in 1..2^32-1, got ${snaplen}`);
    }
    if (!Number.isInteger(options.linkType) || options.linkType < 0 || options.linkType > 0xffffffff) {
      throw new RangeError(`PcapWriter: bad link type ${String(options.linkType)}`);
    }
    this.#sink = sink;
    this.linkType = options.linkType;
    this.resolution = options.resolution ?? 'us';
    this.snaplen = snaplen;
    this.byteOrder = options.byteOrder ?? 'little';
    this.#little = this.byteOrder === 'little';

    const header = new Uint8Array(PCAP_FILE_HEADER_LEN);
    const v = dataView(header);
    const le = this.#little;
    v.setUint32(0, this.resolution === 'ns' ? PCAP_MAGIC_NANOS : PCAP_MAGIC_MICROS, le);
    v.setUint16(4, 2, le);
    v.setUint16(6, 4, le);
    // Bytes 8..15: thiszone and sigfigs, both 0 (timestamps are UTC).
    v.setUint32(16, snaplen, le);
    v.setUint32(20, options.linkType, le);
    this.#emit(header);
  }

  /**
   * Records `frame` as seen at `at` (microseconds since the Unix epoch, for
   * the timestamp to read as a date). Frames beyond the snaplen are cut;
   * `originalLength` lets a caller record a frame it has already cut.
   * Throws RangeError for an instant a pcap timestamp cannot hold (negative,
   * fractional, after 2106): that is a bug in the caller's clock.
   */
  writePacket(at: Instant, frame: Uint8Array, originalLength: number = frame.length): void {
    if (!Number.isSafeInteger(at) || at < 0 || at > MAX_INSTANT) {
      throw new RangeError(`PcapWriter.writePacket: instant ${at} does not fit a pcap timestamp`);
    }
    if (!Number.isInteger(originalLength) || originalLength < frame.length || originalLength > 0xffffffff) {
      throw new RangeError(`PcapWriter.writePacket: original length ${originalLength} < captured ${frame.length}`);
    }
    const caplen = Math.min(frame.length, this.snaplen);
    const seconds = Math.floor(at / 1_000_000);
    const micros = at - seconds * 1_000_000;
    const chunk = new Uint8Array(PCAP_RECORD_HEADER_LEN + caplen);
    const v = dataView(chunk);
    const le = this.#little;
    v.setUint32(0, seconds, le);
    v.setUint32(4, this.resolution === 'ns' ? micros * 1000 : micros, le);
    v.setUint32(8, caplen, le);
    v.setUint32(12, originalLength, le);
    chunk.set(caplen === frame.length ? frame : frame.subarray(0, caplen), PCAP_RECORD_HEADER_LEN);
    this.#frames++;
    this.#frameBytes += originalLength;
    this.#capturedBytes += caplen;
    if (caplen < originalLength) this.#truncatedFrames++;
    this.#emit(chunk);
  }

  /** Packets written. */
  get frames(): number {
    return this.#frames;
  }

  /** Sum of the packets' original lengths. */
  get frameBytes(): number {
    return this.#frameBytes;
  }

  /** Sum of the packet bytes actually stored (after snaplen cuts). */
  get capturedBytes(): number {
    return this.#capturedBytes;
  }

  /** Packets cut short by the snaplen (or recorded with a larger original length). */
  get truncatedFrames(): number {
    return this.#truncatedFrames;
  }

  /** Bytes handed to the sink: file header, record headers and packet data. */
  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  #emit(chunk: Uint8Array): void {
    this.#bytesWritten += chunk.length;
    this.#sink(chunk);
  }
}

export interface PcapHeader {
  readonly versionMajor: number;
  readonly versionMinor: number;
  /** Link type as stored; compare with LinkType values (other LINKTYPE_ numbers are passed through). */
  readonly linkType: number;
  readonly snaplen: number;
  readonly resolution: PcapResolution;
  readonly byteOrder: PcapByteOrder;
  /** The historical GMT-offset field (signed seconds); 0 in practice. */
  readonly thiszone: number;
}

export interface PcapRecord {
  /** The timestamp in microseconds since the Unix epoch (nanoseconds rounded down). */
  readonly at: Instant;
  /** The timestamp fields as stored: seconds and the fraction in the file's resolution. */
  readonly seconds: number;
  readonly fraction: number;
  /** The packet's length on the wire; more than data.length when the capture cut it. */
  readonly originalLength: number;
  /** The captured bytes: a view into the input, not a copy. */
  readonly data: Uint8Array;
}

export interface PcapFile {
  readonly header: PcapHeader;
  readonly records: PcapRecord[];
}

/**
 * Reads a whole classic pcap file: either magic, either byte order. Never
 * throws: a bad magic is 'bad-type', a major version other than 2 is
 * 'bad-version', a file or record cut short is 'truncated' (a capture
 * interrupted mid-write; the records before it are not returned, since the
 * callers are tests and tools that want the whole file).
 */
export function readPcap(bytes: Uint8Array): ParseResult<PcapFile> {
  if (bytes.length < PCAP_FILE_HEADER_LEN) return fail('truncated');
  const v = dataView(bytes);
  let little: boolean;
  let resolution: PcapResolution;
  const magicLe = v.getUint32(0, true);
  const magicBe = v.getUint32(0, false);
  if (magicLe === PCAP_MAGIC_MICROS || magicLe === PCAP_MAGIC_NANOS) {
    little = true;
    resolution = magicLe === PCAP_MAGIC_NANOS ? 'ns' : 'us';
  } else if (magicBe === PCAP_MAGIC_MICROS || magicBe === PCAP_MAGIC_NANOS) {
    little = false;
    resolution = magicBe === PCAP_MAGIC_NANOS ? 'ns' : 'us';
  } else {
    return fail('bad-type'); // pcapng, modified-pcap or not a capture at all
  }
  const versionMajor = v.getUint16(4, little);
  const versionMinor = v.getUint16(6, little);
  if (versionMajor !== 2) return fail('bad-version');
  const header: PcapHeader = {
    versionMajor,
    versionMinor,
    thiszone: v.getInt32(8, little),
    snaplen: v.getUint32(16, little),
    // The upper 16 bits may carry FCS-length flags (section 4); the type is the low 16.
    linkType: v.getUint32(20, little) & 0xffff,
    resolution,
    byteOrder: little ? 'little' : 'big',
  };
  const records: PcapRecord[] = [];
  let at = PCAP_FILE_HEADER_LEN;
  while (at < bytes.length) {
    if (bytes.length - at < PCAP_RECORD_HEADER_LEN) return fail('truncated');
    const seconds = v.getUint32(at, little);
    const fraction = v.getUint32(at + 4, little);
    const caplen = v.getUint32(at + 8, little);
    const originalLength = v.getUint32(at + 12, little);
    const start = at + PCAP_RECORD_HEADER_LEN;
    if (caplen > bytes.length - start) return fail('truncated');
    // A fraction of a second or more is out of spec but harmless: like
    // libpcap, pass it through rather than reject the capture.
    const micros = resolution === 'ns' ? Math.floor(fraction / 1000) : fraction;
    records.push({
      at: (seconds * 1_000_000 + micros) as Instant,
      seconds,
      fraction,
      originalLength,
      data: bytes.subarray(start, start + caplen),
    });
    at = start + caplen;
  }
  return ok({ header, records });
}
