// The benchmark suite must keep running and keep its JSON shape; this runs
// `npm run bench -- --quick` itself (compile, then run the JavaScript). It checks figures exist and
// are sane numbers, never how fast anything is.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { cases } from '../bench/cases.js';
import type { CaseResult, Report, Summary } from '../bench/lib/harness.js';
import { formatTable, runCase, summarize } from '../bench/lib/harness.js';
import { canUseNetns } from './helpers/netns-core.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'sockstack-bench-'));

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

function expectPositive(x: unknown, what: string): void {
  expect(typeof x, what).toBe('number');
  expect(Number.isFinite(x) && (x as number) > 0, `${what} = ${String(x)}`).toBe(true);
}

function expectSummary(s: Summary, runs: number, what: string): void {
  for (const k of ['median', 'min', 'max', 'q1', 'q3'] as const) expectPositive(s[k], `${what}.${k}`);
  expect(s.samples, what).toHaveLength(runs);
  s.samples.forEach((x, i) => {
    expectPositive(x, `${what}.samples[${i}]`);
  });
  expect(s.min).toBeLessThanOrEqual(s.median);
  expect(s.median).toBeLessThanOrEqual(s.max);
}

/** `npm run --silent bench -- ...argv` in the project root. */
function bench(argv: string[], timeout: number): Promise<{ stdout: string; stderr: string }> {
  return run('npm', ['run', '--silent', 'bench', '--', ...argv], { cwd: root, timeout });
}

describe('npm run bench -- --quick', () => {
  it('runs every case and writes every metric as a finite positive number', { timeout: 300_000 }, async () => {
    const file = join(tmp, 'nested', 'bench.json');
    const { stdout } = await bench(['--quick', '--json', file], 280_000);
    const report = JSON.parse(readFileSync(file, 'utf8')) as Report;

    expect(report.schema).toBe(1);
    expect(report.machine.cpu.length).toBeGreaterThan(0);
    expect(report.machine.node).toBe(process.version);
    expect(report.options.quick).toBe(true);
    expect(report.options.runs).toBeGreaterThanOrEqual(5);
    expect(stdout).toContain(report.machine.cpu);

    expect(report.cases.map((c) => c.name)).toEqual(cases.map((c) => c.name));
    for (const c of report.cases) {
      if (c.skipped !== undefined) {
        // A case this machine cannot run (e.g. "tun" without root) says why, in the JSON and the table, and has no figures.
        expect(c.skipped.length, `${c.name}: skip reason`).toBeGreaterThan(0);
        expect(c.metrics, c.name).toEqual([]);
        expect(stdout).toContain(`${c.name}  skipped: ${c.skipped}`);
        continue;
      }
      expect(c.metrics.length, c.name).toBeGreaterThan(0);
      for (const m of c.metrics) {
        const what = `${c.name}/${m.metric}`;
        expect(m.unit.length, what).toBeGreaterThan(0);
        expectSummary(m.sockstack, c.runs, `${what}.sockstack`);
        expectSummary(m.reference, c.runs, `${what}.reference`);
        expectPositive(m.ratio, `${what}.ratio`);
        expect(m.ratio).toBeCloseTo(m.sockstack.median / m.reference.median, 10);
        // Every row is in the printed table too.
        expect(stdout).toMatch(new RegExp(`^${c.name} +${m.metric.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `, 'm'));
      }
    }

    // "tun" skips only where it cannot run (with the reason checked above); where it can, it must report both directions.
    const tun = report.cases.find((c) => c.name === 'tun');
    if (canUseNetns(['python3']).ok) {
      expect(tun?.skipped).toBeUndefined();
      expect(tun?.metrics.map((m) => m.metric)).toEqual(['sockstack -> kernel', 'kernel -> sockstack']);
    } else {
      expect(tun?.skipped).toBeDefined();
    }

    const checksum = report.cases.find((c) => c.name === 'checksum');
    expect(checksum?.metrics.map((m) => m.metric)).toEqual(['1500 B', '65536 B']);
    expect(checksum?.metrics.every((m) => m.unit === 'GB/s')).toBe(true);
  });

  it('rejects an unknown --only name and an unknown flag with status 2', async () => {
    for (const argv of [['--only', 'no-such-case'], ['--frobnicate']]) {
      const err = await bench(argv, 110_000).then(
        () => undefined,
        (e: unknown) => e as { code?: number; stderr?: string },
      );
      expect(err?.code, argv.join(' ')).toBe(2);
      expect(err?.stderr).toContain('usage:');
    }
  });
});

describe('bench harness', () => {
  it('summarize gives median, extremes and interpolated quartiles', () => {
    const s = summarize([5, 1, 4, 2, 3]);
    expect([s.median, s.min, s.max, s.q1, s.q3]).toEqual([3, 1, 5, 2, 4]);
    expect(s.samples).toEqual([5, 1, 4, 2, 3]); // run order kept
    const even = summarize([1, 2, 3, 4]);
    expect([even.median, even.q1, even.q3]).toEqual([2.5, 1.75, 3.25]);
    expect(() => summarize([])).toThrow(RangeError);
  });

  it('runCase discards warm-up runs and takes medians per metric', async () => {
    const seen: number[] = [];
    const result: CaseResult = await runCase(
      {
        name: 'fake',
        description: 'd',
        reference: 'r',
        run: ({ iteration }) => {
          seen.push(iteration);
          // Warm-up runs report nonsense that must not reach the summary.
          const v = iteration < 2 ? 1000 : iteration;
          return [
            { metric: 'a', unit: 'x/s', better: 'higher', sockstack: v, reference: 2 * v },
            { metric: 'b', unit: 'ms', better: 'lower', sockstack: 1, reference: 4 },
          ];
        },
      },
      { quick: true, runs: 5, warmup: 2 },
    );
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(result.metrics.map((m) => m.metric)).toEqual(['a', 'b']);
    const a = result.metrics[0]!;
    expect(a.sockstack.samples).toEqual([2, 3, 4, 5, 6]);
    expect(a.sockstack.median).toBe(4);
    expect(a.reference.median).toBe(8);
    expect(a.ratio).toBe(0.5);
    expect(result.metrics[1]!.ratio).toBe(0.25);
  });

  it('runCase skips a case that is unavailable, without running it, and the table gives the reason', async () => {
    let calls = 0;
    const result = await runCase(
      {
        name: 'needs-root',
        description: 'd',
        reference: 'r',
        unavailable: () => 'not running as root',
        run: () => {
          calls++;
          return [{ metric: 'm', unit: 'x/s', better: 'higher', sockstack: 1, reference: 1 }];
        },
      },
      { quick: true, runs: 5, warmup: 1 },
    );
    expect(calls).toBe(0);
    expect(result.skipped).toBe('not running as root');
    expect(result.metrics).toEqual([]);
    expect(formatTable([result]).split('\n')).toContain('needs-root  skipped: not running as root');
    // An available case runs as before and carries no skip reason.
    const ran = await runCase(
      { name: 'fine', description: 'd', reference: 'r', unavailable: () => undefined, run: () => [{ metric: 'm', unit: 'x/s', better: 'higher', sockstack: 2, reference: 1 }] },
      { quick: true, runs: 1, warmup: 0 },
    );
    expect(ran.skipped).toBeUndefined();
    expect(ran.metrics[0]?.ratio).toBe(2);
  });

  it('formatTable aligns its columns', async () => {
    const result = await runCase(
      {
        name: 'a-longer-case-name',
        description: 'd',
        reference: 'r',
        run: ({ iteration }) => [
          { metric: 'm', unit: 'GB/s', better: 'higher', sockstack: 1 + iteration, reference: 123.456 },
          { metric: 'a longer metric', unit: 'µs', better: 'lower', sockstack: 0.001, reference: 10 },
        ],
      },
      { quick: true, runs: 3, warmup: 0 },
    );
    const lines = formatTable([result]).split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^case +metric +sockstack +reference +ratio$/);
    // Right-aligned figures: every line ends at the same column.
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
    expect(lines[2]).toContain('2.00 [1.00, 3.00]');
    expect(lines[2]).toContain('123 [123, 123]');
    expect(lines[3]).toContain('0.00100 [0.00100, 0.00100]');
  });
});
