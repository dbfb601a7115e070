/**
 * The benchmark harness: every case measures sockstack and a reference in the
 * same run (so machine noise hits both alike), repeats that a number of times
 * after warm-up runs, and reports the median and spread of each metric as a
 * table and as JSON.
 *
 * A case is a function that performs ONE run and returns one measurement per
 * metric; the harness owns repetition, statistics and output.
 */
import os from 'node:os';

/** Whether a bigger number is the better one (throughput) or a smaller one (latency). */
export type Better = 'higher' | 'lower';

/** One metric from one run: sockstack's figure and the reference's, in the same unit. */
export interface Measurement {
  /** Short and stable, e.g. '1500 B'; (case, metric) identifies a row. */
  readonly metric: string;
  /** e.g. 'GB/s', 'µs', 'req/s'. */
  readonly unit: string;
  readonly better: Better;
  readonly sockstack: number;
  readonly reference: number;
}

export interface CaseContext {
  /** CI smoke mode: do the least work that still yields a figure. */
  readonly quick: boolean;
  /** 0-based index of this run, warm-up runs included; e.g. to alternate which side goes first. */
  readonly iteration: number;
}

export interface BenchCase {
  /** kebab-case, unique; what `--only` matches. */
  readonly name: string;
  /** One line: what sockstack does in this case. */
  readonly description: string;
  /** One line: what the reference column measures. */
  readonly reference: string;
  /** Performs one run. */
  run(ctx: CaseContext): readonly Measurement[] | Promise<readonly Measurement[]>;
  /**
   * Why this case cannot run on this machine (e.g. it needs root), or
   * undefined when it can. Asked once before any run; a reason skips the
   * case, and the table and JSON say so instead of giving figures.
   */
  unavailable?(): string | undefined;
}

/** Median and spread of one series of samples. Quartiles interpolate linearly. */
export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly q1: number;
  readonly q3: number;
  readonly samples: readonly number[];
}

export interface MetricResult {
  readonly metric: string;
  readonly unit: string;
  readonly better: Better;
  readonly sockstack: Summary;
  readonly reference: Summary;
  /** sockstack.median / reference.median. */
  readonly ratio: number;
}

export interface CaseResult {
  readonly name: string;
  readonly description: string;
  readonly reference: string;
  readonly runs: number;
  readonly warmup: number;
  /** Empty when the case was skipped. */
  readonly metrics: readonly MetricResult[];
  /** Present only when the case did not run: why (from BenchCase.unavailable). */
  readonly skipped?: string;
}

export interface MachineInfo {
  readonly cpu: string;
  readonly cpus: number;
  readonly node: string;
  readonly v8: string;
  readonly platform: string;
  readonly arch: string;
}

export interface RunOptions {
  readonly quick: boolean;
  /** Measured runs per case (each metric's median is over these). */
  readonly runs: number;
  /** Discarded runs first, so the JIT has compiled the hot paths. */
  readonly warmup: number;
}

export interface Report {
  readonly schema: 1;
  readonly date: string;
  readonly machine: MachineInfo;
  readonly options: RunOptions & { readonly only: readonly string[] };
  readonly cases: readonly CaseResult[];
}

/** The value at fraction `p` (0..1) of sorted samples, interpolating between neighbours. */
function quantile(sorted: readonly number[], p: number): number {
  const at = (sorted.length - 1) * p;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  const a = sorted[lo]!;
  return a + (sorted[hi]! - a) * (at - lo);
}

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new RangeError('summarize: no samples');
  const sorted = [...samples].sort((x, y) => x - y);
  return {
    median: quantile(sorted, 0.5),
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    q1: quantile(sorted, 0.25),
    q3: quantile(sorted, 0.75),
    samples: [...samples],
  };
}

/**
 * Calls `fn` repeatedly for at least `minMillis` and returns calls per second.
 * Calls go in doubling batches so the clock is read rarely for fast `fn`s.
 */
export function measureRate(fn: () => void, minMillis: number): number {
  let batch = 1;
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    for (let i = 0; i < batch; i++) fn();
    calls += batch;
    elapsed = performance.now() - start;
    if (elapsed < minMillis / 16) batch *= 2;
  } while (elapsed < minMillis);
  return calls / (elapsed / 1000);
}

/** Runs `c` `warmup` times (discarded), then `runs` times, and summarises each metric. */
export async function runCase(c: BenchCase, options: RunOptions): Promise<CaseResult> {
  if (!Number.isInteger(options.runs) || options.runs < 1) throw new RangeError(`runs must be >= 1, got ${options.runs}`);
  const skipped = c.unavailable?.();
  if (skipped !== undefined) {
    return { name: c.name, description: c.description, reference: c.reference, runs: 0, warmup: 0, metrics: [], skipped };
  }
  const series = new Map<string, { first: Measurement; sockstack: number[]; reference: number[] }>();
  const total = options.warmup + options.runs;
  for (let iteration = 0; iteration < total; iteration++) {
    const measurements = await c.run({ quick: options.quick, iteration });
    if (iteration < options.warmup) continue;
    for (const m of measurements) {
      let s = series.get(m.metric);
      if (s === undefined) {
        s = { first: m, sockstack: [], reference: [] };
        series.set(m.metric, s);
      }
      s.sockstack.push(m.sockstack);
      s.reference.push(m.reference);
    }
  }
  const metrics: MetricResult[] = [];
  for (const { first, sockstack, reference } of series.values()) {
    if (sockstack.length !== options.runs) {
      throw new Error(`case ${c.name}: metric '${first.metric}' reported in ${sockstack.length} of ${options.runs} runs`);
    }
    const s = summarize(sockstack);
    const r = summarize(reference);
    metrics.push({ metric: first.metric, unit: first.unit, better: first.better, sockstack: s, reference: r, ratio: s.median / r.median });
  }
  return { name: c.name, description: c.description, reference: c.reference, runs: options.runs, warmup: options.warmup, metrics };
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cpus: cpus.length,
    node: process.version,
    v8: process.versions.v8,
    platform: os.platform(),
    arch: os.arch(),
  };
}

export function formatMachine(m: MachineInfo): string {
  return `${m.cpu} x${m.cpus}, Node ${m.node} (V8 ${m.v8}), ${m.platform}/${m.arch}`;
}

/** Three significant digits, never exponent notation for the sizes we print. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 0.01 || a === 0) return x.toFixed(2);
  return x.toPrecision(3);
}

function formatSummary(s: Summary): string {
  return `${formatNumber(s.median)} [${formatNumber(s.min)}, ${formatNumber(s.max)}]`;
}

/**
 * An aligned plain-text table, one row per metric: median [min, max] of each
 * side and the ratio of the medians. A skipped case gets one row with its reason.
 */
export function formatTable(results: readonly CaseResult[]): string {
  const header = ['case', 'metric', 'sockstack', 'reference', 'ratio'];
  const rows: string[][] = [];
  const skips: string[] = [];
  for (const c of results) {
    if (c.skipped !== undefined) skips.push(`${c.name}  skipped: ${c.skipped}`);
    for (const m of c.metrics) {
      const arrow = m.better === 'higher' ? '↑' : '↓';
      rows.push([c.name, `${m.metric} (${m.unit} ${arrow})`, formatSummary(m.sockstack), formatSummary(m.reference), formatNumber(m.ratio)]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  // Text columns left-aligned, figures right-aligned.
  const line = (cells: readonly string[]): string =>
    cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  // Skipped cases after the figures, unaligned: a reason is a sentence, not a cell.
  return [line(header), rule, ...rows.map(line), ...skips].join('\n');
}

export function makeReport(options: RunOptions, only: readonly string[], cases: readonly CaseResult[]): Report {
  return { schema: 1, date: new Date().toISOString(), machine: machineInfo(), options: { ...options, only }, cases };
}

export function reportJson(report: Report): string {
  return JSON.stringify(report, null, 2) + '\n';
}
