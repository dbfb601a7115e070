/**
 * IGMP, the Internet Group Management Protocol: versions 1 (RFC 1112
 * appendix I), 2 (RFC 2236) and 3 (RFC 3376).
 *
 * Every message starts with a type octet and a 16-bit checksum at offset 2
 * that covers the whole IGMP message (no pseudo-header). A query's version
 * is not in the type: RFC 3376 7.1 tells them apart by length (8 octets:
 * v1 when Max Resp Code is 0, else v2; 12 or more: v3; 9 to 11: ignore).
 */
import { ok, fail } from './result.js';
import type { ParseResult } from './result.js';
import type { Ipv4Address } from './address.js';
import { readIpv4, writeIpv4 } from './address.js';
import { readU16, writeU16 } from './bytes.js';
import { checksumValid, internetChecksum } from './checksum.js';

export const IgmpType = {
  MembershipQuery: 0x11,
  V1MembershipReport: 0x12,
  V2MembershipReport: 0x16,
  V2LeaveGroup: 0x17,
  V3MembershipReport: 0x22,
} as const;
export type IgmpType = (typeof IgmpType)[keyof typeof IgmpType];

/** RFC 3376 4.2.12 record types. */
export const IgmpRecordType = {
  ModeIsInclude: 1,
  ModeIsExclude: 2,
  ChangeToIncludeMode: 3,
  ChangeToExcludeMode: 4,
  AllowNewSources: 5,
  BlockOldSources: 6,
} as const;
export type IgmpRecordType = (typeof IgmpRecordType)[keyof typeof IgmpRecordType];

/** v1/v2 messages, and the shortest query. */
export const IGMP_V2_LEN = 8;
/** The fixed part of a v3 query (before its source list). */
export const IGMP_V3_QUERY_HEADER_LEN = 12;
/** The fixed part of a v3 report (before its group records). */
export const IGMP_V3_REPORT_HEADER_LEN = 8;
const RECORD_HEADER_LEN = 8;

/** 224.0.0.1, every multicast host (RFC 1112 4): general queries go there. */
export const IGMP_ALL_SYSTEMS: Ipv4Address = 0xe0000001;
/** 224.0.0.2, every multicast router: v2 Leave Group goes there (RFC 2236 3). */
export const IGMP_ALL_ROUTERS: Ipv4Address = 0xe0000002;
/** 224.0.0.22, every IGMPv3-capable router: v3 reports go there (RFC 3376 4.2.14). */
export const IGMP_V3_ROUTERS: Ipv4Address = 0xe0000016;

export interface IgmpQueryRepr {
  readonly type: typeof IgmpType.MembershipQuery;
  /** 1, 2 or 3, from the length and Max Resp Code (RFC 3376 7.1). */
  readonly version: 1 | 2 | 3;
  /**
   * The raw Max Resp Code octet. In v2 it is the time in tenths of a second;
   * in v3 values from 128 are a floating-point encoding (see igmpDecodeCode).
   * Zero in a v1 query.
   */
  readonly maxRespCode: number;
  /** 0 for a general query, else the group a group-specific query asks about. */
  readonly group: Ipv4Address;
  /** v3 only (zero otherwise): S flag, QRV (3 bits), QQIC, and the source list. */
  readonly suppressRouterSide: boolean;
  readonly robustness: number;
  readonly queryIntervalCode: number;
  readonly sources: readonly Ipv4Address[];
}

export interface IgmpGroupMessageRepr {
  readonly type: typeof IgmpType.V1MembershipReport | typeof IgmpType.V2MembershipReport | typeof IgmpType.V2LeaveGroup;
  readonly group: Ipv4Address;
}

export interface IgmpGroupRecord {
  readonly recordType: number;
  readonly group: Ipv4Address;
  readonly sources: readonly Ipv4Address[];
  /** Auxiliary data (a multiple of 4 bytes; RFC 3376 4.2.10 says receivers ignore it). A view on parse. */
  readonly auxData: Uint8Array;
}

export interface IgmpV3ReportRepr {
  readonly type: typeof IgmpType.V3MembershipReport;
  readonly records: readonly IgmpGroupRecord[];
}

export type IgmpRepr = IgmpQueryRepr | IgmpGroupMessageRepr | IgmpV3ReportRepr;

export interface IgmpParseOptions {
  /** Default true. */
  readonly verifyChecksum?: boolean;
}

/**
 * RFC 3376 4.1.1 / 4.1.7: Max Resp Code and QQIC below 128 are the value
 * itself; from 128 they are 1|exp(3)|mant(4) meaning (mant | 0x10) << (exp + 3).
 */
export function igmpDecodeCode(code: number): number {
  if (code < 128) return code;
  const mant = code & 0x0f;
  const exp = (code >> 4) & 0x07;
  return (mant | 0x10) << (exp + 3);
}

/** The inverse of igmpDecodeCode, rounding down to a representable value (at most 31744). */
export function igmpEncodeCode(value: number): number {
  if (value < 128) return Math.max(0, Math.floor(value));
  for (let exp = 7; exp >= 0; exp--) {
    const mant = (value >> (exp + 3)) - 0x10;
    if (mant >= 0) return 0x80 | (exp << 4) | Math.min(mant, 0x0f);
  }
  return 127;
}

/** Parses a whole IGMP message (the IPv4 payload). Never throws. */
export function parseIgmp(bytes: Uint8Array, opts?: IgmpParseOptions): ParseResult<IgmpRepr> {
  if (bytes.length < IGMP_V2_LEN) return fail('truncated');
  if ((opts?.verifyChecksum ?? true) && !checksumValid(bytes)) return fail('bad-checksum');
  const type = bytes[0]!;
  switch (type) {
    case IgmpType.MembershipQuery:
      return parseQuery(bytes);
    case IgmpType.V1MembershipReport:
    case IgmpType.V2MembershipReport:
    case IgmpType.V2LeaveGroup:
      // RFC 2236 2.5: longer messages are accepted; the extra octets are ignored.
      return ok({ type, group: readIpv4(bytes, 4) });
    case IgmpType.V3MembershipReport:
      return parseV3Report(bytes);
    default:
      // RFC 3376 4: unrecognized message types are silently ignored.
      return fail('bad-type');
  }
}

function parseQuery(bytes: Uint8Array): ParseResult<IgmpQueryRepr> {
  const maxRespCode = bytes[1]!;
  const group = readIpv4(bytes, 4);
  if (bytes.length === IGMP_V2_LEN) {
    return ok({
      type: IgmpType.MembershipQuery,
      version: maxRespCode === 0 ? 1 : 2,
      maxRespCode,
      group,
      suppressRouterSide: false,
      robustness: 0,
      queryIntervalCode: 0,
      sources: [],
    });
  }
  // RFC 3376 7.1: 9 to 11 octets is not a valid query of any version.
  if (bytes.length < IGMP_V3_QUERY_HEADER_LEN) return fail('bad-length');
  const n = readU16(bytes, 10);
  if (bytes.length < IGMP_V3_QUERY_HEADER_LEN + 4 * n) return fail('truncated');
  const sources: Ipv4Address[] = [];
  for (let i = 0; i < n; i++) sources.push(readIpv4(bytes, IGMP_V3_QUERY_HEADER_LEN + 4 * i));
  return ok({
    type: IgmpType.MembershipQuery,
    version: 3,
    maxRespCode,
    group,
    suppressRouterSide: (bytes[8]! & 0x08) !== 0,
    robustness: bytes[8]! & 0x07,
    queryIntervalCode: bytes[9]!,
    sources,
  });
}

function parseV3Report(bytes: Uint8Array): ParseResult<IgmpV3ReportRepr> {
  const n = readU16(bytes, 6);
  const records: IgmpGroupRecord[] = [];
  let off = IGMP_V3_REPORT_HEADER_LEN;
  for (let r = 0; r < n; r++) {
    if (bytes.length < off + RECORD_HEADER_LEN) return fail('truncated');
    const recordType = bytes[off]!;
    const auxLen = bytes[off + 1]! * 4;
    const ns = readU16(bytes, off + 2);
    const group = readIpv4(bytes, off + 4);
    const end = off + RECORD_HEADER_LEN + 4 * ns + auxLen;
    if (bytes.length < end) return fail('truncated');
    const sources: Ipv4Address[] = [];
    for (let i = 0; i < ns; i++) sources.push(readIpv4(bytes, off + RECORD_HEADER_LEN + 4 * i));
    records.push({ recordType, group, sources, auxData: bytes.subarray(end - auxLen, end) });
    off = end;
  }
  return ok({ type: IgmpType.V3MembershipReport, records });
}

export function igmpBufferLen(repr: IgmpRepr): number {
  switch (repr.type) {
    case IgmpType.MembershipQuery:
      return repr.version === 3 ? IGMP_V3_QUERY_HEADER_LEN + 4 * repr.sources.length : IGMP_V2_LEN;
    case IgmpType.V3MembershipReport: {
      let len = IGMP_V3_REPORT_HEADER_LEN;
      for (const rec of repr.records) len += RECORD_HEADER_LEN + 4 * rec.sources.length + rec.auxData.length;
      return len;
    }
    default:
      return IGMP_V2_LEN;
  }
}

/** IGMP has no separate header/payload split: the header length is the whole message. */
export function igmpHeaderLen(repr: IgmpRepr): number {
  return igmpBufferLen(repr);
}

/**
 * Writes the message with its checksum at buf[0..]; returns its length.
 * Throws RangeError if buf is too small or a field cannot be expressed
 * (over 65535 sources or records, aux data not a multiple of 4 bytes).
 */
export function emitIgmp(repr: IgmpRepr, buf: Uint8Array): number {
  const len = igmpBufferLen(repr);
  if (buf.length < len) throw new RangeError(`emitIgmp: buffer of ${buf.length} bytes, need ${len}`);
  buf.fill(0, 0, len);
  buf[0] = repr.type;
  switch (repr.type) {
    case IgmpType.MembershipQuery:
      buf[1] = repr.version === 1 ? 0 : repr.maxRespCode & 0xff;
      writeIpv4(buf, 4, repr.group);
      if (repr.version === 3) {
        if (repr.sources.length > 0xffff) throw new RangeError('emitIgmp: more than 65535 sources');
        buf[8] = (repr.suppressRouterSide ? 0x08 : 0) | (repr.robustness & 0x07);
        buf[9] = repr.queryIntervalCode & 0xff;
        writeU16(buf, 10, repr.sources.length);
        repr.sources.forEach((s, i) => writeIpv4(buf, IGMP_V3_QUERY_HEADER_LEN + 4 * i, s));
      }
      break;
    case IgmpType.V3MembershipReport: {
      if (repr.records.length > 0xffff) throw new RangeError('emitIgmp: more than 65535 group records');
      writeU16(buf, 6, repr.records.length);
      let off = IGMP_V3_REPORT_HEADER_LEN;
      for (const rec of repr.records) {
        if (rec.auxData.length % 4 !== 0 || rec.auxData.length > 255 * 4) {
          throw new RangeError(`emitIgmp: aux data of ${rec.auxData.length} bytes`);
        }
        if (rec.sources.length > 0xffff) throw new RangeError('emitIgmp: more than 65535 sources');
        buf[off] = rec.recordType & 0xff;
        buf[off + 1] = rec.auxData.length / 4;
        writeU16(buf, off + 2, rec.sources.length);
        writeIpv4(buf, off + 4, rec.group);
        off += RECORD_HEADER_LEN;
        for (const s of rec.sources) {
          writeIpv4(buf, off, s);
          off += 4;
        }
        buf.set(rec.auxData, off);
        off += rec.auxData.length;
      }
      break;
    }
    default:
      writeIpv4(buf, 4, repr.group);
  }
  writeU16(buf, 2, internetChecksum(buf.subarray(0, len)));
  return len;
}

/** RFC 2113 2.1: the 4-byte Router Alert option (value 0: "routers shall examine packet"), for IGMP reports. */
export const ROUTER_ALERT_OPTION: Uint8Array = Uint8Array.of(0x94, 0x04, 0x00, 0x00);
