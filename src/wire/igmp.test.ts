import { describe, expect, it } from 'vitest';
import { ipv4 } from './address.js';
import { fromHex, toHex } from './bytes.js';
import {
  IgmpRecordType,
  IgmpType,
  emitIgmp,
  igmpBufferLen,
  igmpDecodeCode,
  igmpEncodeCode,
  parseIgmp,
} from './igmp.js';
import type { IgmpRepr } from './igmp.js';

function roundTrip(repr: IgmpRepr): Uint8Array {
  const buf = new Uint8Array(igmpBufferLen(repr));
  expect(emitIgmp(repr, buf)).toBe(buf.length);
  const back = parseIgmp(buf);
  expect(back).toEqual({ ok: true, value: repr });
  return buf;
}

describe('IGMP wire format', () => {
  it('v2 membership report fixture (RFC 2236 2)', () => {
    const bytes = fromHex('1600f8faef010203');
    expect(parseIgmp(bytes)).toEqual({ ok: true, value: { type: IgmpType.V2MembershipReport, group: ipv4('239.1.2.3') } });
    expect(toHex(roundTrip({ type: IgmpType.V2MembershipReport, group: ipv4('239.1.2.3') }))).toBe('1600f8faef010203');
  });

  it('v3 report fixture: CHANGE_TO_EXCLUDE {} for 239.1.2.3, as Linux sends on join', () => {
    const hex = '2200e8f90000000104000000ef010203';
    const r = parseIgmp(fromHex(hex));
    expect(r.ok && r.value.type === IgmpType.V3MembershipReport && r.value.records[0]?.recordType).toBe(IgmpRecordType.ChangeToExcludeMode);
    const repr: IgmpRepr = {
      type: IgmpType.V3MembershipReport,
      records: [{ recordType: IgmpRecordType.ChangeToExcludeMode, group: ipv4('239.1.2.3'), sources: [], auxData: new Uint8Array(0) }],
    };
    expect(toHex(roundTrip(repr))).toBe(hex);
  });

  it('tells query versions apart by length and Max Resp Code (RFC 3376 7.1)', () => {
    const fix = (b: Uint8Array): Uint8Array => {
      b[2] = 0;
      b[3] = 0;
      const repr = parseIgmp(b, { verifyChecksum: false });
      expect(repr.ok).toBe(true);
      if (!repr.ok) return b;
      const out = new Uint8Array(b.length);
      emitIgmp(repr.value, out);
      return out;
    };
    const q1 = parseIgmp(fix(fromHex('1100000000000000')));
    expect(q1.ok && q1.value.type === IgmpType.MembershipQuery && q1.value.version).toBe(1);
    const q2 = parseIgmp(fix(fromHex('1164000000000000')));
    expect(q2.ok && q2.value.type === IgmpType.MembershipQuery && q2.value.version).toBe(2);
    const q3 = parseIgmp(fix(fromHex('1164000000000000027d0000')));
    expect(q3.ok && q3.value.type === IgmpType.MembershipQuery && q3.value.version).toBe(3);
    expect(parseIgmp(fromHex('116400000000000002'), { verifyChecksum: false })).toEqual({ ok: false, reason: 'bad-length' });
  });

  it('round-trips a v3 group-and-source-specific query', () => {
    roundTrip({
      type: IgmpType.MembershipQuery,
      version: 3,
      maxRespCode: 0x8f,
      group: ipv4('239.9.9.9'),
      suppressRouterSide: true,
      robustness: 2,
      queryIntervalCode: 125,
      sources: [ipv4('10.0.0.1'), ipv4('10.0.0.2')],
    });
  });

  it('round-trips a v3 report with sources and aux data', () => {
    roundTrip({
      type: IgmpType.V3MembershipReport,
      records: [
        { recordType: IgmpRecordType.ModeIsExclude, group: ipv4('239.1.1.1'), sources: [], auxData: new Uint8Array(0) },
        { recordType: IgmpRecordType.AllowNewSources, group: ipv4('232.1.1.1'), sources: [ipv4('10.1.1.1')], auxData: Uint8Array.of(1, 2, 3, 4) },
      ],
    });
  });

  it('rejects bad input without throwing', () => {
    expect(parseIgmp(new Uint8Array(7))).toEqual({ ok: false, reason: 'truncated' });
    expect(parseIgmp(fromHex('1600f8faef010204'))).toEqual({ ok: false, reason: 'bad-checksum' });
    expect(parseIgmp(fromHex('1300000000000000'), { verifyChecksum: false })).toEqual({ ok: false, reason: 'bad-type' });
    // A v3 report claiming one record but holding none.
    expect(parseIgmp(fromHex('2200000000000001'), { verifyChecksum: false })).toEqual({ ok: false, reason: 'truncated' });
    // A v3 query claiming 2 sources, holding 1.
    expect(parseIgmp(fromHex('1164000000000000027d00020a000001'), { verifyChecksum: false })).toEqual({ ok: false, reason: 'truncated' });
  });

  it('decodes and encodes the floating-point Max Resp Code (RFC 3376 4.1.1)', () => {
    expect(igmpDecodeCode(100)).toBe(100);
    expect(igmpDecodeCode(0x80)).toBe(128);
    expect(igmpDecodeCode(0xff)).toBe(31744);
    for (const v of [0, 5, 127, 128, 200, 1000, 31744]) expect(igmpDecodeCode(igmpEncodeCode(v))).toBeLessThanOrEqual(v);
    expect(igmpDecodeCode(igmpEncodeCode(1000))).toBeGreaterThan(900);
  });

  it('emit throws RangeError on a short buffer', () => {
    expect(() => emitIgmp({ type: IgmpType.V2LeaveGroup, group: 0 }, new Uint8Array(7))).toThrow(RangeError);
  });
});
