/**
 * `sockstack packetdrill [--verbose] [--name=value ...] FILE...`: runs each
 * script on a fresh stack (`--hz=N`: the CONFIG_HZ whose jiffies rounding of
 * TCP timers to model, 1000 unless given) and prints `PASS path` or `FAIL path: line N: ...`,
 * then `N passed, M failed`. Node-only (reads files).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { runScript } from '../packetdrill/runner.js';
import type { RunResult } from '../packetdrill/runner.js';

export interface PacketdrillCliIo {
  readonly out: (line: string) => void;
}

/** Runs one script file; `../common/defaults.sh` style includes resolve next to it. */
export function runScriptFile(path: string, options: Readonly<Record<string, string>> = {}, verbose = false): Promise<RunResult> {
  const source = readFileSync(path, 'utf8');
  return runScript(source, {
    options,
    verbose,
    readInclude: (p) => {
      const q = resolve(dirname(path), p);
      return existsSync(q) ? readFileSync(q, 'utf8') : null;
    },
  });
}

/** Returns the exit status: 0 if every script passed, 1 otherwise (2 on usage errors). */
export async function packetdrillMain(args: readonly string[], io: PacketdrillCliIo = { out: (l) => console.log(l) }): Promise<number> {
  const files: string[] = [];
  const options: Record<string, string> = {};
  let verbose = false;
  for (const a of args) {
    if (a === '--verbose' || a === '-v') verbose = true;
    else if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq < 0) options[a.slice(2)] = '';
      else options[a.slice(2, eq)] = a.slice(eq + 1);
    } else files.push(a);
  }
  if (files.length === 0) {
    io.out('usage: sockstack packetdrill [--verbose] [--tolerance_usecs=N] [--hz=N] [--local_ip=A] [--remote_ip=A] FILE...');
    io.out('  --hz=N  kernel tick rate (CONFIG_HZ) whose TCP timer rounding to model: 1000 (default), 250, 300 or 100');
    return 2;
  }
  let passed = 0;
  let failed = 0;
  for (const f of files) {
    const r = await runScriptFile(f, options, verbose);
    if (verbose) for (const l of r.log) io.out(`  ${l}`);
    if (r.passed) {
      passed++;
      io.out(`PASS ${f}`);
    } else {
      failed++;
      io.out(`FAIL ${f}: ${r.error ?? 'failed'}`);
    }
  }
  io.out(`${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}
