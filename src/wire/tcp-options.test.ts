import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from './bytes.js';
import {
  dataOptions,
  emitTcpOptions,
  formatTcpOptions,
  maxSackBlocks,
  parseTcpOptions,
  synOptions,
  tcpOptionsLen,
  TcpOptionsScratch,
  readTcpOptions,
  readTcpOptionsInto,
} from './tcp-options.js';
import type { TcpOption } from './tcp-options.js';
import { summarizeTcpOptions } from './tcp-options-summary.js';
import { SeededRng } from '../random/rng.js';

function parseOk(hex: string): TcpOption[] {
  const r = parseTcpOptions(fromHex(hex));
  if (!r.ok) throw new Error(`expected options ${hex} to parse, got ${r.reason}`);
  return r.value;
}

function emitHex(options: readonly TcpOption[]): string {
  const buf = new Uint8Array(tcpOptionsLen(options));
  expect(emitTcpOptions(options, buf)).toBe(buf.length);
  return toHex(buf);
}

// Option areas cut from segments Linux 6.18 sent (captured with tcpdump between
// two network namespaces; full segments are in tcp.test.ts).
const LINUX_SYN_TS = '020405b40402080a3f21b711000000000103030a'; // mss 1460,sackOK,TS val 1059174161 ecr 0,nop,wscale 10
const LINUX_SYN_NO_TS = '020405b4010104020103030a'; // mss 1460,nop,nop,sackOK,nop,wscale 10
const LINUX_ACK_TS = '0101080a3f21b711862e1c57'; // nop,nop,TS val 1059174161 ecr 2251168855
const LINUX_ACK_SACK = '0101080a862e1c573f21b7110101050a66cb34c766cb38af'; // nop,nop,TS,nop,nop,sack 1 block

describe('parseTcpOptions on Linux layouts', () => {
  it('parses the Linux SYN layout with timestamps', () => {
    expect(parseOk(LINUX_SYN_TS)).toEqual([
      { kind: 'mss', value: 1460 },
      { kind: 'sack-permitted' },
      { kind: 'timestamps', tsVal: 1059174161, tsEcr: 0 },
      { kind: 'nop' },
      { kind: 'window-scale', shift: 10 },
    ]);
  });

  it('parses the Linux SYN layout without timestamps', () => {
    expect(formatTcpOptions(parseOk(LINUX_SYN_NO_TS))).toBe('mss 1460,nop,nop,sackOK,nop,wscale 10');
  });

  it('parses nop,nop,TS,nop,nop,sack', () => {
    const opts = parseOk(LINUX_ACK_SACK);
    expect(formatTcpOptions(opts)).toBe('nop,nop,TS val 2251168855 ecr 1059174161,nop,nop,sack 1724593351:1724594351');
    expect(summarizeTcpOptions(opts)).toEqual({
      sackPermitted: false,
      timestamps: { tsVal: 2251168855, tsEcr: 1059174161 },
      sackBlocks: [{ left: 1724593351, right: 1724594351 }],
    });
  });

  it('re-emits every Linux layout byte for byte', () => {
    for (const hex of [LINUX_SYN_TS, LINUX_SYN_NO_TS, LINUX_ACK_TS, LINUX_ACK_SACK]) {
      expect(emitHex(parseOk(hex))).toBe(hex);
    }
  });

  it('parses an empty options area', () => {
    expect(parseOk('')).toEqual([]);
  });
});

describe('builders produce the Linux layouts', () => {
  it('synOptions with SACK and timestamps: mss, sackOK, TS, nop, wscale (20 bytes)', () => {
    const opts = synOptions({ mss: 1460, sackPermitted: true, timestamps: { tsVal: 1059174161, tsEcr: 0 }, windowScale: 10 });
    expect(emitHex(opts)).toBe(LINUX_SYN_TS);
    expect(tcpOptionsLen(opts)).toBe(20);
    expect(formatTcpOptions(synOptions({ mss: 1460, sackPermitted: true, timestamps: { tsVal: 100, tsEcr: 0 }, windowScale: 8 }))).toBe(
      'mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 8',
    );
  });

  it('synOptions without timestamps: mss, nop, nop, sackOK, nop, wscale (12 bytes)', () => {
    const opts = synOptions({ mss: 1460, sackPermitted: true, windowScale: 10 });
    expect(emitHex(opts)).toBe(LINUX_SYN_NO_TS);
    expect(formatTcpOptions(synOptions({ mss: 1460, sackPermitted: true, windowScale: 8 }))).toBe(
      'mss 1460,nop,nop,sackOK,nop,wscale 8',
    );
  });

  it('synOptions without SACK: mss, nop, nop, TS, nop, wscale', () => {
    expect(formatTcpOptions(synOptions({ mss: 1460, timestamps: { tsVal: 7, tsEcr: 9 }, windowScale: 7 }))).toBe(
      'mss 1460,nop,nop,TS val 7 ecr 9,nop,wscale 7',
    );
  });

  it('synOptions with only mss and wscale: mss, nop, wscale (8 bytes)', () => {
    const opts = synOptions({ mss: 1460, windowScale: 8 });
    expect(formatTcpOptions(opts)).toBe('mss 1460,nop,wscale 8');
    expect(emitHex(opts)).toBe('020405b401030308');
  });

  it('synOptions with SACK but no window scale: mss, nop, nop, sackOK', () => {
    expect(formatTcpOptions(synOptions({ mss: 1460, sackPermitted: true }))).toBe('mss 1460,nop,nop,sackOK');
    expect(synOptions({})).toEqual([]);
  });

  it('every builder layout keeps 4-byte alignment without trailing padding', () => {
    for (const sackPermitted of [false, true]) {
      for (const ts of [undefined, { tsVal: 1, tsEcr: 2 }]) {
        for (const windowScale of [undefined, 7]) {
          const opts = synOptions({ mss: 536, sackPermitted, ...(ts ? { timestamps: ts } : {}), ...(windowScale !== undefined ? { windowScale } : {}) });
          const raw = opts.reduce((n, o) => n + (o.kind === 'nop' ? 1 : o.kind === 'mss' ? 4 : o.kind === 'window-scale' ? 3 : o.kind === 'sack-permitted' ? 2 : 10), 0);
          expect(raw % 4).toBe(0);
          expect(parseOk(emitHex(opts))).toEqual(opts);
        }
      }
    }
  });

  it('dataOptions: nop, nop, TS', () => {
    const opts = dataOptions({ timestamps: { tsVal: 1059174161, tsEcr: 2251168855 } });
    expect(emitHex(opts)).toBe(LINUX_ACK_TS);
  });

  it('dataOptions: nop, nop, TS then nop, nop, sack', () => {
    const opts = dataOptions({
      timestamps: { tsVal: 2251168855, tsEcr: 1059174161 },
      sackBlocks: [{ left: 1724593351, right: 1724594351 }],
    });
    expect(emitHex(opts)).toBe(LINUX_ACK_SACK);
  });

  it('dataOptions: nop, nop, sack without timestamps, up to 4 blocks', () => {
    const blocks = [
      { left: 1, right: 2 },
      { left: 3, right: 4 },
      { left: 5, right: 6 },
      { left: 7, right: 8 },
    ];
    const opts = dataOptions({ sackBlocks: blocks });
    expect(formatTcpOptions(opts)).toBe('nop,nop,sack 1:2 3:4 5:6 7:8');
    expect(tcpOptionsLen(opts)).toBe(36);
    expect(dataOptions({})).toEqual([]);
  });

  it('dataOptions refuses more SACK blocks than fit', () => {
    expect(maxSackBlocks(true)).toBe(3);
    expect(maxSackBlocks(false)).toBe(4);
    const four = [1, 2, 3, 4].map((i) => ({ left: i * 10, right: i * 10 + 5 }));
    expect(() => dataOptions({ timestamps: { tsVal: 0, tsEcr: 0 }, sackBlocks: four })).toThrow(RangeError);
    expect(tcpOptionsLen(dataOptions({ timestamps: { tsVal: 0, tsEcr: 0 }, sackBlocks: four.slice(0, 3) }))).toBe(40);
    expect(() => dataOptions({ sackBlocks: [...four, { left: 0, right: 1 }] })).toThrow(RangeError);
  });
});

describe('RFC 9293 option rules', () => {
  // Each area is malformed in exactly one way; all must fail as a whole.
  const illegal: readonly (readonly [string, string])[] = [
    ['kind with no length byte', '02'],
    ['unknown kind with no length byte', '0101011e'],
    ['length 0', '0200'],
    ['length 1', '0201'],
    ['unknown option length 0 (would loop forever)', '1e00'],
    ['unknown option length 1', '1e01'],
    ['length runs past the options area', '1e0a0000'],
    ['MSS length runs past the area', '020405'],
    ['MSS length 3', '020305b4'],
    ['MSS length 5', '020505b40000'],
    ['window scale length 2', '0302'],
    ['window scale length 4', '0304070000'],
    ['SACK-permitted length 3', '04030000'],
    ['SACK length 2 (no blocks)', '0502'],
    ['SACK length 6 (not 2+8n)', '0506' + '00'.repeat(4)],
    ['SACK length 11', '050b' + '00'.repeat(9) + '0000'],
    ['SACK length 42 (5 blocks cannot fit)', '052a' + '00'.repeat(38)],
    ['timestamps length 8', '0808' + '00'.repeat(6)],
    ['timestamps length 12', '080c' + '00'.repeat(10)],
    ['a good option followed by a bad one', '020405b40103030a1e00'],
    ['an illegal length after nop padding', '010101020000'],
  ];

  for (const [name, hex] of illegal) {
    it(`MUST-7: illegal option length drops the segment (${name})`, () => {
      const area = fromHex(hex);
      let r: ReturnType<typeof parseTcpOptions> | undefined;
      expect(() => {
        r = parseTcpOptions(area);
      }).not.toThrow();
      expect(r).toEqual({ ok: false, reason: 'bad-option' });
    });
  }

  it('MUST-6: unknown options are skipped by their length and kept', () => {
    // mss, an unknown kind 30 with 2 data bytes, TFO cookie, sackOK, nop, nop
    const hex = '020405b41e04abcd220a0102030405060708040201010000';
    const opts = parseOk(hex);
    expect(opts).toEqual([
      { kind: 'mss', value: 1460 },
      { kind: 'unknown', type: 30, data: fromHex('abcd') },
      { kind: 'unknown', type: 34, data: fromHex('0102030405060708') },
      { kind: 'sack-permitted' },
      { kind: 'nop' },
      { kind: 'nop' },
      { kind: 'eol' },
    ]);
    expect(summarizeTcpOptions(opts)).toEqual({ mss: 1460, sackPermitted: true, sackBlocks: [] });
    expect(emitHex(opts)).toBe(hex);
  });

  it('MUST-6: an unknown option with no data is kept', () => {
    expect(parseOk('1e020101')).toEqual([{ kind: 'unknown', type: 30, data: new Uint8Array(0) }, { kind: 'nop' }, { kind: 'nop' }]);
  });

  it('MUST-6: unknown option data is a view into the segment, not a copy', () => {
    const area = fromHex('1e04abcd');
    const r = parseTcpOptions(area);
    const opt = r.ok ? r.value[0] : undefined;
    if (opt?.kind !== 'unknown') throw new Error('expected an unknown option');
    expect(opt.data.buffer).toBe(area.buffer);
    expect(opt.data.byteOffset).toBe(area.byteOffset + 2);
  });

  it('MUST-64: options are processed regardless of word alignment', () => {
    // nop, then MSS at offset 1, wscale at offset 5, timestamps at offset 8
    const opts = parseOk('01020405b403030e080a0000000100000002000000');
    expect(summarizeTcpOptions(opts)).toEqual({
      mss: 1460,
      windowScale: 14,
      sackPermitted: false,
      timestamps: { tsVal: 1, tsEcr: 2 },
      sackBlocks: [],
    });
  });

  it('MUST-68: EOL ends the list and what follows is padding', () => {
    expect(parseOk('020405b400000000')).toEqual([{ kind: 'mss', value: 1460 }, { kind: 'eol' }]);
    // Bytes after EOL are not parsed, even when they look like a broken option.
    expect(parseOk('00020000')).toEqual([{ kind: 'eol' }]);
  });

  it('MUST-69: emit pads with zero after the last option and after EOL', () => {
    const buf = new Uint8Array(12).fill(0xee);
    expect(emitTcpOptions([{ kind: 'mss', value: 1460 }, { kind: 'eol' }], buf)).toBe(8);
    expect(toHex(buf)).toBe('020405b400000000eeeeeeee');
    buf.fill(0xee);
    expect(emitTcpOptions([{ kind: 'window-scale', shift: 7 }], buf)).toBe(4);
    expect(toHex(buf.subarray(0, 4))).toBe('03030700');
  });
});

describe('tcpOptionsLen and emitTcpOptions limits', () => {
  it('pads to a multiple of 4', () => {
    expect(tcpOptionsLen([])).toBe(0);
    expect(tcpOptionsLen([{ kind: 'nop' }])).toBe(4);
    expect(tcpOptionsLen([{ kind: 'mss', value: 1 }])).toBe(4);
    expect(tcpOptionsLen([{ kind: 'mss', value: 1 }, { kind: 'nop' }])).toBe(8);
  });

  it('throws RangeError beyond 40 bytes', () => {
    const ts: TcpOption = { kind: 'timestamps', tsVal: 0, tsEcr: 0 };
    expect(tcpOptionsLen([ts, ts, ts, ts])).toBe(40);
    expect(() => tcpOptionsLen([ts, ts, ts, ts, { kind: 'nop' }])).toThrow(RangeError);
    expect(() => tcpOptionsLen([{ kind: 'unknown', type: 30, data: new Uint8Array(39) }])).toThrow(RangeError);
  });

  it('throws RangeError on a SACK option with 0 or 5 blocks', () => {
    expect(() => tcpOptionsLen([{ kind: 'sack', blocks: [] }])).toThrow(RangeError);
    const five = [0, 1, 2, 3, 4].map((i) => ({ left: i, right: i + 1 }));
    expect(() => tcpOptionsLen([{ kind: 'sack', blocks: five }])).toThrow(RangeError);
  });

  it('throws RangeError on a too small buffer or a value that does not fit', () => {
    expect(() => emitTcpOptions([{ kind: 'mss', value: 1460 }], new Uint8Array(3))).toThrow(RangeError);
    expect(() => emitTcpOptions([{ kind: 'mss', value: 70000 }], new Uint8Array(4))).toThrow(RangeError);
    expect(() => emitTcpOptions([{ kind: 'window-scale', shift: 256 }], new Uint8Array(4))).toThrow(RangeError);
    expect(() => emitTcpOptions([{ kind: 'unknown', type: 300, data: new Uint8Array(0) }], new Uint8Array(4))).toThrow(RangeError);
  });
});

describe('summarizeTcpOptions', () => {
  it('is empty for no options', () => {
    expect(summarizeTcpOptions([])).toEqual({ sackPermitted: false, sackBlocks: [] });
  });

  it('clamps a window scale above 14 (RFC 7323 2.3) but keeps the raw value for re-emit', () => {
    const opts = parseOk('0103030f');
    expect(opts[1]).toEqual({ kind: 'window-scale', shift: 15 });
    expect(summarizeTcpOptions(opts).windowScale).toBe(14);
    expect(summarizeTcpOptions(parseOk('01030300')).windowScale).toBe(0);
  });

  it('takes the last of repeated options, as Linux does', () => {
    const opts = parseOk('020405b402040218');
    expect(summarizeTcpOptions(opts).mss).toBe(536);
  });
});

describe('formatTcpOptions', () => {
  it('formats packetdrill words', () => {
    const opts: TcpOption[] = [
      { kind: 'mss', value: 1000 },
      { kind: 'sack-permitted' },
      { kind: 'nop' },
      { kind: 'window-scale', shift: 7 },
      { kind: 'sack', blocks: [{ left: 1001, right: 2001 }, { left: 3001, right: 4001 }] },
      { kind: 'eol' },
    ];
    expect(formatTcpOptions(opts)).toBe('mss 1000,sackOK,nop,wscale 7,sack 1001:2001 3001:4001,eol');
  });

  it('names Fast Open and MD5, and shows other unknown options as kind and hex', () => {
    expect(formatTcpOptions([{ kind: 'unknown', type: 34, data: fromHex('abcd1234') }])).toBe('FO abcd1234');
    expect(formatTcpOptions([{ kind: 'unknown', type: 34, data: new Uint8Array(0) }])).toBe('FO');
    expect(formatTcpOptions([{ kind: 'unknown', type: 254, data: fromHex('f989aabb') }])).toBe('FOEXP aabb');
    expect(formatTcpOptions([{ kind: 'unknown', type: 254, data: fromHex('1234') }])).toBe('unknown 254 1234');
    expect(formatTcpOptions([{ kind: 'unknown', type: 19, data: fromHex('00ff') }])).toBe('md5 00ff');
    expect(formatTcpOptions([{ kind: 'unknown', type: 30, data: new Uint8Array(0) }])).toBe('unknown 30');
  });
});

describe('fuzzing (seeded)', () => {
  it('random option areas never throw, and accepted ones without EOL re-emit exactly', () => {
    const nextRng = new SeededRng(0x5eed);
    const next = (): number => nextRng.nextFloat();
    const kinds = [0, 1, 2, 3, 4, 5, 8, 30, 34];
    let accepted = 0;
    let rejected = 0;
    for (let n = 0; n < 5000; n++) {
      const len = Math.floor(next() * 11) * 4;
      const area = new Uint8Array(len);
      for (let i = 0; i < len; i++) area[i] = Math.floor(next() * 256);
      // Bias towards plausible option starts and lengths so both paths get exercised.
      for (let i = 0; i + 1 < len; i += 2 + Math.floor(next() * 8)) {
        area[i] = kinds[Math.floor(next() * kinds.length)]!;
        if (next() < 0.8) area[i + 1] = [2, 3, 4, 10, 18][Math.floor(next() * 5)]!;
      }
      let r: ReturnType<typeof parseTcpOptions> | undefined;
      expect(() => (r = parseTcpOptions(area))).not.toThrow();
      if (r?.ok) {
        accepted++;
        if (!r.value.some((o) => o.kind === 'eol')) expect(emitHex(r.value)).toBe(toHex(area));
      } else {
        rejected++;
        expect(r?.reason).toBe('bad-option');
      }
    }
    expect(accepted).toBeGreaterThan(100);
    expect(rejected).toBeGreaterThan(100);
  });
});

describe('readTcpOptionsInto (the aligned NOP NOP TS shortcut)', () => {
  /** fromHex of hex written in groups, spaces between them. */
  const spaced = (hex: string): Uint8Array => fromHex(hex.replace(/ /g, ''));
  const general = (area: Uint8Array): { err: unknown; list: unknown } => {
    const s = new TcpOptionsScratch();
    const err = readTcpOptions(area, 0, area.length, s.list, s);
    return { err, list: structuredClone(s.list) };
  };
  const shortcut = (area: Uint8Array): { err: unknown; list: unknown; sharesScratch: boolean; aligned: boolean } => {
    const s = new TcpOptionsScratch();
    // A scratch whose last parse was the aligned layout: its list is replaced, not appended to.
    readTcpOptionsInto(fromHex('0101080a0000000100000002'), 0, 12, s);
    const err = readTcpOptionsInto(area, 0, area.length, s);
    return { err, list: structuredClone(s.list), sharesScratch: s.list.includes(s.timestamps), aligned: s.aligned };
  };
  it('gives the list the general parser gives, timestamps in the scratch record', () => {
    const area = spaced('0101080a 01020304 a0b0c0d0');
    const r = shortcut(area);
    expect(r.list).toEqual([{ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamps', tsVal: 0x01020304, tsEcr: 0xa0b0c0d0 }]);
    expect(r.sharesScratch).toBe(true);
    expect(r.aligned).toBe(true);
    expect({ err: r.err, list: r.list }).toEqual(general(area));
  });
  it('leaves every other 12-byte area, and other lengths, to the general parser', () => {
    for (const hex of ['080a0102030405060708 0101', '0101080b 01020304 05060708', '01010a08 01020304 05060708', '0001080a 01020304 05060708', '0101080a 01020304 0506', '0101080a 01020304 05060708 01000000']) {
      const area = spaced(hex);
      const { err, list, aligned } = shortcut(area);
      expect({ err, list }, hex).toEqual(general(area));
      expect(aligned, hex).toBe(false);
    }
  });
  it('replaces the list on every parse, aligned or not, in any order (the kept NOP NOP TS list is rewritten in place)', () => {
    const areas = ['0101080a 01020304 a0b0c0d0', '0101080a 11121314 b0b1b2b3', '01010402', '0101080a 21222324 c0c1c2c3', '', '0101080a 31323334 d0d1d2d3', '0101050a 00000001 00000002'];
    const s = new TcpOptionsScratch();
    for (const rounds of [areas, [...areas].reverse(), areas]) {
      for (const hex of rounds) {
        const area = spaced(hex);
        const err = readTcpOptionsInto(area, 0, area.length, s);
        expect({ err, list: structuredClone(s.list) }, hex).toEqual(general(area));
        expect(s.aligned, hex).toBe(hex.startsWith('0101080a'));
        if (s.aligned) expect(s.list[2], hex).toBe(s.timestamps);
      }
    }
  });
  it('an aligned area after a malformed one gets exactly NOP NOP TS, not the partial list the error left (listAligned cleared by the failed parse)', () => {
    // Malformed areas whose general parse fails after pushing something (NOP, NOP, an option), and one failing at once.
    const bad = ['0101080a 01020304 0506', '01010204 05b4 0101 0303', '0101 0402 0102', '02'];
    const s = new TcpOptionsScratch();
    for (const hex of bad) {
      const aligned = spaced('0101080a 01020304 a0b0c0d0');
      expect(readTcpOptionsInto(aligned, 0, aligned.length, s)).toBeUndefined();
      const area = spaced(hex);
      const err = readTcpOptionsInto(area, 0, area.length, s);
      expect(err, hex).toBe('bad-option');
      expect({ err, list: structuredClone(s.list) }, hex).toEqual(general(area));
      expect(s.aligned, hex).toBe(false);
      const next = spaced('0101080a 0a0b0c0d 01020304');
      expect(readTcpOptionsInto(next, 0, next.length, s), hex).toBeUndefined();
      expect(structuredClone(s.list), hex).toEqual([{ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamps', tsVal: 0x0a0b0c0d, tsEcr: 0x01020304 }]);
      expect(s.list[2], hex).toBe(s.timestamps);
      expect(s.aligned, hex).toBe(true);
    }
  });
});
