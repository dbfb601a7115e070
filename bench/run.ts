/**
 * `npm run bench [-- --quick] [--json FILE] [--only NAME]...`
 *
 *   --quick      few, short runs: the whole suite well under a minute (CI smoke)
 *   --json FILE  also write every figure, with the machine, as JSON to FILE
 *   --only NAME  run only cases whose name is NAME or starts with it;
 *                repeatable, or comma-separated
 *
 * Exit status: 0 on success, 1 if a case failed, 2 on a usage error.
 *
 * `npm run bench` first compiles src/ and bench/ with tsc (tsconfig.bench.json,
 * into build/bench) and runs that JavaScript: the same code users run from
 * dist/. Running the TypeScript through tsx would measure tsx's transform
 * instead, which keeps function names by wrapping every function and
 * closure it creates in a naming call (esbuild keepNames): a cost per
 * closure that compiled code does not pay.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { cases } from './cases.js';
import type { CaseResult, RunOptions } from './lib/harness.js';
import { formatMachine, formatTable, machineInfo, makeReport, reportJson, runCase } from './lib/harness.js';

const USAGE = 'usage: tsx bench/run.ts [--quick] [--json FILE] [--only NAME]...';

function usageError(message: string): never {
  console.error(`bench: ${message}\n${USAGE}\ncases: ${cases.map((c) => c.name).join(', ')}`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      json: { type: 'string' },
      only: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  }).values;
} catch (e) {
  usageError(e instanceof Error ? e.message : String(e));
}
if (args.help) {
  console.log(`${USAGE}\ncases: ${cases.map((c) => c.name).join(', ')}`);
  process.exit(0);
}

const names = new Set<string>();
for (const c of cases) {
  if (names.has(c.name)) throw new Error(`bench/cases.ts: duplicate case name '${c.name}'`);
  names.add(c.name);
}

const only = (args.only ?? []).flatMap((o) => o.split(',')).map((o) => o.trim()).filter((o) => o !== '');
for (const o of only) {
  if (!cases.some((c) => c.name.startsWith(o))) usageError(`--only ${o}: no such case`);
}
const selected = only.length === 0 ? cases : cases.filter((c) => only.some((o) => c.name.startsWith(o)));

// Medians of 5 at least, also in quick mode; full runs use more to tighten the spread.
const options: RunOptions = args.quick ? { quick: true, runs: 5, warmup: 1 } : { quick: false, runs: 11, warmup: 3 };

console.log(`machine: ${formatMachine(machineInfo())}`);
console.log(`mode: ${options.quick ? 'quick' : 'full'}, ${options.runs} runs after ${options.warmup} warm-up; cells are median [min, max]\n`);

const results: CaseResult[] = [];
for (const c of selected) {
  process.stderr.write(`running ${c.name} ...\n`);
  results.push(await runCase(c, options));
}

console.log(formatTable(results));
console.log('');
for (const r of results) console.log(`${r.name}: ${r.description}; reference: ${r.reference}`);

if (args.json !== undefined) {
  const file = resolve(args.json);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, reportJson(makeReport(options, only, results)));
  console.log(`\nwrote ${file}`);
}
