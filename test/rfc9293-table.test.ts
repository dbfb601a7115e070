/**
 * docs/rfc9293-musts.md must match what scripts/must-table.ts generates from
 * the requirement summary, the test titles and docs/rfc9293-exceptions.json,
 * and every MUST must be covered or explained. Regenerate with
 * `npx tsx scripts/must-table.ts` after adding or renaming a MUST test.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DOC_PATH, MUST_COUNT, TSV_PATH, buildTable, generate, labelsIn, parseRequirements, testTitles } from '../scripts/must-table.js';

const haveTsv = existsSync(TSV_PATH);
if (!haveTsv) {
  console.log(`rfc9293-table: ${TSV_PATH} is absent (../shared/conformance not checked out): skipping the staleness check; the committed table is still checked.`);
}

describe('RFC 9293 MUST table (docs/rfc9293-musts.md)', () => {
  it.skipIf(!haveTsv)('is up to date, and every MUST is covered by a test or explained', () => {
    const table = generate();
    expect(table.problems).toEqual([]);
    expect(table.rows).toHaveLength(MUST_COUNT);
    const committed = readFileSync(DOC_PATH, 'utf8');
    // On failure: run `npx tsx scripts/must-table.ts` and commit the result.
    expect(committed).toBe(table.markdown);
  });

  it(`the committed table has one row per MUST label, 1 to ${MUST_COUNT}, none unexplained`, () => {
    const rows = readFileSync(DOC_PATH, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('| MUST-'));
    expect(rows.map((l) => l.split(' | ')[0]!.slice(2))).toEqual(Array.from({ length: MUST_COUNT }, (_, i) => `MUST-${i + 1}`));
    for (const r of rows) {
      const status = r.split(' | ')[3];
      expect(['covered', 'partial', 'not implemented', 'not applicable']).toContain(status);
      // Every row names a test or gives a reason.
      expect(r.split(' | ')[4]!.replace(/\|\s*$/, '').trim()).not.toBe('');
    }
  });
});

describe('scripts/must-table.ts', () => {
  it('reads labels as single, slash-separated and ranged', () => {
    expect(labelsIn('MUST-13: TIME-WAIT')).toEqual(['MUST-13']);
    expect(labelsIn('MUST-18/19/20: RTO doubles')).toEqual(['MUST-18', 'MUST-19', 'MUST-20']);
    expect(labelsIn('MUST-30..33 and (MUST-12: ECONNRESET)')).toEqual(['MUST-30', 'MUST-31', 'MUST-32', 'MUST-33', 'MUST-12']);
    expect(labelsIn('SHLD-19: ACK every second segment')).toEqual([]);
  });

  it('finds it()/test() titles in quotes and template literals, not describe() titles', () => {
    // Built from pieces so that this file's own source names no MUST (the table scans it too).
    const L = 'MUST';
    const src = [
      `describe('${L}-1: group', () => {`,
      `  it('${L}-2: single \\'quoted\\'', () => {});`,
      `  test("${L}-3: double", () => {});`,
      `  it(\`${L}-4: template (seed \${seed})\`, () => {});`,
      `  it.skipIf(x)('${L}-5: conditional', () => {});`,
      `  split('${L}-6: not a test');`,
      '});',
    ].join('\n');
    expect(testTitles(src)).toEqual([`${L}-2: single 'quoted'`, `${L}-3: double`, `${L}-4: template (seed \${seed})`, `${L}-5: conditional`]);
  });

  it('flags a MUST with neither a test nor a reason, and tests that contradict an exception', () => {
    const tsv = ['# header', 'MUST-1\tMUST\tWindow\tTreat as unsigned number', 'MUST-2\tMUST\tTCP Checksums\tSender compute checksum', 'SHLD-1\tSHOULD\tx\ty'].join('\n');
    const reqs = parseRequirements(tsv);
    expect(reqs.map((r) => r.label)).toEqual(['MUST-1', 'MUST-2']);
    const files = [{ path: 'a.test.ts', source: `it('${'MUST'}-1: unsigned', () => {});` }];
    const bare = buildTable(reqs, files, {});
    expect(bare.rows.map((r) => r.status)).toEqual(['covered', 'UNEXPLAINED']);
    expect(bare.problems.some((p) => p.startsWith('MUST-2 '))).toBe(true);
    const explained = buildTable(reqs, files, { 'MUST-2': { status: 'not implemented', reason: 'because' } });
    expect(explained.rows.map((r) => r.status)).toEqual(['covered', 'not implemented']);
    expect(explained.problems.filter((p) => !p.startsWith('expected 69'))).toEqual([]);
    const contradicted = buildTable(reqs, files, { 'MUST-1': { status: 'not applicable', reason: 'no' } });
    expect(contradicted.problems.some((p) => p.startsWith('MUST-1 has tests'))).toBe(true);
  });
});
