/**
 * Builds docs/rfc9293-musts.md: one row per RFC 9293 MUST (MUST-1..MUST-69,
 * from ../shared/conformance/rfc9293-requirements.tsv) with the tests whose
 * titles carry its label, or the reason it has none
 * (docs/rfc9293-exceptions.json).
 *
 *   npx tsx scripts/must-table.ts            # writes the doc
 *   npx tsx scripts/must-table.ts --check    # exits 1 if the doc is stale or a MUST is unexplained
 *
 * A test names the MUSTs it covers in its title: `MUST-13: ...`, several as
 * `MUST-24/26/27: ...` or a range `MUST-30..33: ...`. test/rfc9293-table.test.ts
 * regenerates the table in memory and fails when the committed doc differs.
 *
 * Node-only (fs, path): it is a script, not part of the library.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Requirement {
  readonly label: string;
  readonly level: string;
  readonly section: string;
  readonly feature: string;
}

/**
 * 'partial' and 'covered' need tests too: 'partial' says what deviates and
 * why, 'covered' just adds a note; the other two explain a MUST without tests.
 */
export type ExceptionStatus = 'not implemented' | 'not applicable' | 'partial' | 'covered';

export interface MustException {
  readonly status: ExceptionStatus;
  readonly reason: string;
}

export interface TestRef {
  readonly file: string;
  readonly title: string;
}

export type RowStatus = 'covered' | ExceptionStatus | 'UNEXPLAINED';

export interface Row extends Requirement {
  readonly status: RowStatus;
  readonly tests: readonly TestRef[];
  readonly reason: string | undefined;
}

export interface MustTable {
  readonly rows: readonly Row[];
  readonly markdown: string;
  /** Empty when every MUST is covered or explained and the exceptions are consistent. */
  readonly problems: readonly string[];
}

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const TSV_PATH = resolve(ROOT, '..', 'shared', 'conformance', 'rfc9293-requirements.tsv');
export const DOC_PATH = join(ROOT, 'docs', 'rfc9293-musts.md');
export const EXCEPTIONS_PATH = join(ROOT, 'docs', 'rfc9293-exceptions.json');
/** How many MUST labels RFC 9293 Appendix B has. */
export const MUST_COUNT = 69;

/** Parses the requirement summary TSV; only the MUST-n rows. */
export function parseRequirements(tsv: string): Requirement[] {
  const out: Requirement[] = [];
  for (const line of tsv.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const [label, level, section, feature] = line.split('\t');
    if (label === undefined || !/^MUST-\d+$/.test(label)) continue;
    out.push({ label, level: level ?? '', section: section ?? '', feature: (feature ?? '').trim() });
  }
  return out.sort((a, b) => labelNumber(a.label) - labelNumber(b.label));
}

function labelNumber(label: string): number {
  return Number(label.slice('MUST-'.length));
}

/** The MUST labels a test title names: `MUST-5`, `MUST-18/19/20`, `MUST-30..33`. */
export function labelsIn(title: string): string[] {
  const out = new Set<string>();
  for (const m of title.matchAll(/MUST-(\d+)((?:\/\d+)*)(?:\.\.(\d+))?/g)) {
    const first = Number(m[1]);
    out.add(`MUST-${first}`);
    for (const n of (m[2] ?? '').split('/').filter((x) => x !== '')) out.add(`MUST-${Number(n)}`);
    if (m[3] !== undefined) for (let n = first + 1; n <= Number(m[3]); n++) out.add(`MUST-${n}`);
  }
  return [...out];
}

/** Titles of `it(...)` / `test(...)` calls (string or template literal first argument). */
export function testTitles(source: string): string[] {
  const out: string[] = [];
  const re = /\b(?:it|test)(?:\.(?:only|skip|skipIf\([^)]*\)|runIf\([^)]*\)|each\([^)]*\)))?\(\s*(['"`])((?:\\.|(?!\1)[^\\\n])*)\1/g;
  for (const m of source.matchAll(re)) out.push(unescape(m[2] ?? ''));
  return out;
}

function unescape(s: string): string {
  return s.replace(/\\(.)/g, '$1');
}

/** Every *.test.ts under src/, test/ and examples/ of `root`, as repo-relative paths with forward slashes. */
export function findTestFiles(root: string = ROOT): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.test.ts')) out.push(relative(root, p).split(sep).join('/'));
    }
  };
  for (const top of ['src', 'test', 'examples']) walk(join(root, top));
  return out.sort();
}

export function buildTable(
  requirements: readonly Requirement[],
  files: readonly { readonly path: string; readonly source: string }[],
  exceptions: Readonly<Record<string, MustException>>,
): MustTable {
  const problems: string[] = [];
  const byLabel = new Map<string, TestRef[]>();
  for (const f of files) {
    for (const title of testTitles(f.source)) {
      for (const label of labelsIn(title)) {
        let list = byLabel.get(label);
        if (list === undefined) byLabel.set(label, (list = []));
        list.push({ file: f.path, title });
      }
    }
  }
  const known = new Set(requirements.map((r) => r.label));
  for (const label of byLabel.keys()) if (!known.has(label)) problems.push(`a test names ${label}, which is not in the requirement summary`);
  for (const label of Object.keys(exceptions)) if (!known.has(label)) problems.push(`exception for unknown label ${label}`);
  if (requirements.length !== MUST_COUNT) problems.push(`expected ${MUST_COUNT} MUST labels, the summary has ${requirements.length}`);

  const rows: Row[] = requirements.map((r) => {
    const tests = byLabel.get(r.label) ?? [];
    const ex = exceptions[r.label];
    let status: RowStatus;
    if (tests.length > 0) {
      if (ex !== undefined && ex.status !== 'partial' && ex.status !== 'covered') {
        problems.push(`${r.label} has tests but is listed as ${ex.status}`);
      }
      status = ex?.status === 'partial' ? 'partial' : 'covered';
    } else if (ex !== undefined && (ex.status === 'not implemented' || ex.status === 'not applicable')) {
      status = ex.status;
    } else {
      status = 'UNEXPLAINED';
      problems.push(`${r.label} (${r.feature}) has no test naming it and no reason in docs/rfc9293-exceptions.json`);
    }
    return { ...r, status, tests, reason: ex?.reason };
  });
  return { rows, markdown: render(rows), problems };
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function render(rows: readonly Row[]): string {
  const count = (s: RowStatus) => rows.filter((r) => r.status === s).length;
  const lines = [
    '# RFC 9293 MUST requirements: tests',
    '',
    '<!-- Generated by `npx tsx scripts/must-table.ts` from ../shared/conformance/rfc9293-requirements.tsv,',
    '     the titles of the *.test.ts files, and docs/rfc9293-exceptions.json. Do not edit by hand;',
    '     test/rfc9293-table.test.ts fails when this file is stale. -->',
    '',
    'Every MUST of RFC 9293 Appendix B (Table 8), with the tests whose titles carry its label,',
    'or why it has none. **covered**: tests prove it (a note may add context). **partial**: tests prove',
    'what is implemented; the note says what deviates and why. **not implemented** / **not applicable**:',
    'no test; the note says why.',
    '',
    `Summary: ${rows.length} MUSTs; ${count('covered')} covered, ${count('partial')} partial, ` +
      `${count('not implemented')} not implemented, ${count('not applicable')} not applicable` +
      (count('UNEXPLAINED') > 0 ? `, **${count('UNEXPLAINED')} unexplained**` : '') +
      '.',
    '',
    '| Label | Level | Feature | Status | Tests / reason |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    const parts: string[] = [];
    if (r.reason !== undefined) parts.push(cell(r.reason));
    for (const t of r.tests) parts.push(`\`${t.file}\`: ${cell(t.title)}`);
    lines.push(`| ${r.label} | ${r.level} | ${cell(r.feature)} | ${r.status} | ${parts.join('<br>')} |`);
  }
  lines.push('');
  return lines.join('\n');
}

export function readExceptions(path: string = EXCEPTIONS_PATH): Record<string, MustException> {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  const out: Record<string, MustException> = {};
  for (const [label, v] of Object.entries(raw)) {
    if (label.startsWith('$')) continue; // "$comment"
    const e = v as Partial<MustException>;
    if (
      (e.status !== 'not implemented' && e.status !== 'not applicable' && e.status !== 'partial' && e.status !== 'covered') ||
      typeof e.reason !== 'string'
    ) {
      throw new Error(`${path}: ${label} needs { status: "not implemented" | "not applicable" | "partial" | "covered", reason: string }`);
    }
    out[label] = { status: e.status, reason: e.reason };
  }
  return out;
}

/** The table as the repository is now. */
export function generate(root: string = ROOT, tsvPath: string = TSV_PATH): MustTable {
  const requirements = parseRequirements(readFileSync(tsvPath, 'utf8'));
  const files = findTestFiles(root).map((path) => ({ path, source: readFileSync(join(root, path), 'utf8') }));
  return buildTable(requirements, files, readExceptions(join(root, 'docs', 'rfc9293-exceptions.json')));
}

function main(): void {
  const check = process.argv.includes('--check');
  const table = generate();
  for (const p of table.problems) console.error(`must-table: ${p}`);
  if (check) {
    const current = readFileSync(DOC_PATH, 'utf8');
    if (current !== table.markdown) {
      console.error('must-table: docs/rfc9293-musts.md is stale; run npx tsx scripts/must-table.ts');
      process.exitCode = 1;
    }
  } else {
    writeFileSync(DOC_PATH, table.markdown);
    const n = (s: RowStatus) => table.rows.filter((r) => r.status === s).length;
    console.log(
      `wrote ${relative(process.cwd(), DOC_PATH)}: ${n('covered')} covered, ${n('partial')} partial, ` +
        `${n('not implemented')} not implemented, ${n('not applicable')} not applicable, ${n('UNEXPLAINED')} unexplained`,
    );
  }
  if (table.problems.length > 0) process.exitCode = 1;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
