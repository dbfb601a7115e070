/**
 * Parses every packetdrill script under the shared conformance material
 * (../shared/conformance/packetdrill from the repository root), and checks
 * that print -> parse gives back the same AST. Skips, with the reason
 * printed, where that material is absent.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseScript } from './parser.js';
import { printScript } from './printer.js';
import { analyzeScriptShell } from './sysctl.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/conformance/packetdrill');
const TCP_DIR = join(ROOT, 'gtests/tcp');
const present = existsSync(TCP_DIR);
if (!present) console.log(`packetdrill scripts: skipped, ${TCP_DIR} is absent`);

function findScripts(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...findScripts(full));
    else if (entry.name.endsWith('.pkt')) out.push(full);
  }
  return out.sort();
}

describe.skipIf(!present)('the gtests/tcp packetdrill scripts', () => {
  const files = present ? findScripts(TCP_DIR) : [];

  it('finds all 162 scripts', () => {
    expect(files.length).toBe(162);
  });

  it('parses every one of them', () => {
    const failures: string[] = [];
    for (const f of files) {
      const r = parseScript(readFileSync(f, 'utf8'), { file: relative(ROOT, f) });
      if (!r.ok) failures.push(r.error.message);
    }
    console.log(`packetdrill scripts: ${files.length - failures.length}/${files.length} parse`);
    expect(failures).toEqual([]);
  });

  it('round-trips every one of them: parse -> print -> parse gives an equal AST (line numbers included)', () => {
    for (const f of files) {
      const r = parseScript(readFileSync(f, 'utf8'), { file: f });
      if (!r.ok) continue;
      const again = parseScript(printScript(r.script, { preserveLines: true }), { file: `${f} (printed)` });
      expect(again.ok ? again.script : again.error.message, f).toEqual(r.script);
      // Without line preservation, everything but the line numbers survives.
      const compact = parseScript(printScript(r.script), { file: f });
      expect(compact.ok && compact.script.events.length, f).toBe(r.script.events.length);
    }
  });

  it('reads the settings of every script, defaults.sh included', () => {
    for (const f of files) {
      const r = parseScript(readFileSync(f, 'utf8'));
      if (!r.ok) continue;
      const shell = analyzeScriptShell(r.script, (p) => {
        const path = resolve(dirname(f), p);
        return existsSync(path) ? readFileSync(path, 'utf8') : null;
      });
      // Every script starts from defaults.sh, which turns SACK and timestamps on.
      expect(shell.includes.length, f).toBe(1);
      expect(shell.settings.find((s) => s.name === 'net.ipv4.tcp_sack')?.value, f).toBe('1');
    }
  });
});
