/**
 * Turns the shell commands of packetdrill scripts (backquoted lines and
 * common/defaults.sh) into structured kernel settings. sockstack has no
 * shell; the runner maps the `net.ipv4.tcp_*` names to stack options and
 * reports the rest as ignored.
 *
 * Understood forms (what the gtests use):
 *   sysctl [-q -e -w] net.ipv4.tcp_sack=0 [name=value ...]
 *   .../set_sysctls.py /proc/sys/net/ipv4/tcp_wmem="4096 50000 4194304" ...
 *   echo 3 > /proc/sys/net/ipv4/tcp_ecn  (and other absolute paths)
 *   .../defaults.sh  (an include, expanded when a reader is given)
 * Values get shell quoting removed and `$((arithmetic))` expanded.
 */
import type { Script } from './ast.js';

export interface SysctlSetting {
  readonly kind: 'setting';
  /** Dotted sysctl name (`net.ipv4.tcp_sack`); non-/proc/sys paths keep their path (`/sys/module/...`). */
  readonly name: string;
  readonly value: string;
  readonly line: number;
  /** The included file it came from, or null for the script itself. */
  readonly file: string | null;
}

export interface ShellInclude {
  readonly kind: 'include';
  readonly path: string;
  readonly line: number;
  readonly file: string | null;
}

export interface IgnoredShellCommand {
  readonly kind: 'ignored';
  readonly text: string;
  readonly reason: string;
  readonly line: number;
  readonly file: string | null;
}

export type ShellItem = SysctlSetting | ShellInclude | IgnoredShellCommand;

export interface ShellAnalysis {
  /** Everything in script order (includes expanded in place when read). */
  readonly items: readonly ShellItem[];
  readonly settings: readonly SysctlSetting[];
  readonly includes: readonly ShellInclude[];
  readonly ignored: readonly IgnoredShellCommand[];
}

export interface AnalyzeShellOptions {
  /** Line of the first line of `text` in its file (a backquoted command's line). */
  readonly line?: number;
  /** Name of the file `text` came from, for included files. */
  readonly file?: string | null;
  /**
   * Reads an included script such as `../common/defaults.sh`; return null if
   * it is unavailable. Without a reader, includes are listed, not expanded.
   */
  readonly readInclude?: (path: string) => string | null;
}

const MAX_INCLUDE_DEPTH = 8;

/** Analyzes one shell text (the inside of a backquoted command, or a whole .sh file). */
export function analyzeShell(text: string, options: AnalyzeShellOptions = {}): ShellAnalysis {
  const items: ShellItem[] = [];
  analyzeInto(text, options.line ?? 1, options.file ?? null, options.readInclude, 0, items);
  return summarize(items);
}

/** Analyzes every shell command of a parsed script, in order. */
export function analyzeScriptShell(script: Script, readInclude?: (path: string) => string | null): ShellAnalysis {
  const items: ShellItem[] = [];
  for (const e of script.events) {
    if (e.action.kind === 'command') analyzeInto(e.action.command, e.action.line, null, readInclude, 0, items);
  }
  return summarize(items);
}

function summarize(items: ShellItem[]): ShellAnalysis {
  return {
    items,
    settings: items.filter((i): i is SysctlSetting => i.kind === 'setting'),
    includes: items.filter((i): i is ShellInclude => i.kind === 'include'),
    ignored: items.filter((i): i is IgnoredShellCommand => i.kind === 'ignored'),
  };
}

function analyzeInto(
  text: string,
  firstLine: number,
  file: string | null,
  readInclude: ((path: string) => string | null) | undefined,
  depth: number,
  out: ShellItem[],
): void {
  for (const { line, text: cmdText } of logicalLines(text, firstLine)) {
    for (const simple of splitList(cmdText)) {
      const words = shellWords(simple);
      if (words === null) {
        out.push({ kind: 'ignored', text: simple, reason: 'unbalanced quotes', line, file });
        continue;
      }
      if (words.length === 0) continue;
      const item = classify(simple, words, line, file);
      if (!Array.isArray(item) && item.kind === 'include' && readInclude !== undefined && depth < MAX_INCLUDE_DEPTH) {
        out.push(item);
        const body = readInclude(item.path);
        if (body !== null) analyzeInto(body, 1, item.path, readInclude, depth + 1, out);
        continue;
      }
      out.push(...(Array.isArray(item) ? item : [item]));
    }
  }
}

/** Joins backslash-newline continuations and drops `#` comments and blank lines. */
function logicalLines(text: string, firstLine: number): { line: number; text: string }[] {
  const result: { line: number; text: string }[] = [];
  const lines = text.split('\n');
  let pending = '';
  let pendingLine = firstLine;
  lines.forEach((raw, i) => {
    if (pending === '') pendingLine = firstLine + i;
    const body = stripComment(raw);
    if (body.trimEnd().endsWith('\\')) {
      pending += body.trimEnd().slice(0, -1) + ' ';
      return;
    }
    const full = (pending + body).trim();
    pending = '';
    if (full !== '') result.push({ line: pendingLine, text: full });
  });
  if (pending.trim() !== '') result.push({ line: pendingLine, text: pending.trim() });
  return result;
}

/** Removes a `#` comment: one that starts a word, outside quotes. */
function stripComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quote !== null) {
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote === '"') i++;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '\\') i++;
    else if (ch === '#' && (i === 0 || /\s/.test(line[i - 1] ?? ''))) return line.slice(0, i);
  }
  return line;
}

/** Splits a command list on `;`, `&&` and `||` outside quotes (run order is what matters here). */
function splitList(text: string): string[] {
  const parts: string[] = [];
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote !== null) {
      if (ch === quote) quote = null;
      continue;
    }
    if (ch === '"' || ch === "'") quote = ch;
    else if (ch === ';' || ((ch === '&' || ch === '|') && text[i + 1] === ch)) {
      parts.push(text.slice(start, i).trim());
      if (ch !== ';') i++;
      start = i + 1;
    }
  }
  parts.push(text.slice(start).trim());
  return parts.filter((p) => p !== '');
}

type Word = { readonly text: string; /** true if any part was quoted (then it is never an operator). */ readonly quoted: boolean };

/** Shell word splitting with quote removal and `$((...))` expansion; null on unbalanced quotes. */
function shellWords(text: string): Word[] | null {
  const words: Word[] = [];
  let cur = '';
  let quoted = false;
  let inWord = false;
  const flush = (): void => {
    if (inWord) words.push({ text: cur, quoted });
    cur = '';
    quoted = false;
    inWord = false;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] ?? '';
    if (/\s/.test(ch)) {
      flush();
      continue;
    }
    inWord = true;
    if (ch === "'") {
      const close = text.indexOf("'", i + 1);
      if (close < 0) return null;
      cur += text.slice(i + 1, close);
      quoted = true;
      i = close;
    } else if (ch === '"') {
      let j = i + 1;
      let s = '';
      while (j < text.length && text[j] !== '"') {
        if (text[j] === '\\' && j + 1 < text.length) j++;
        const arith = text.startsWith('$((', j) ? expandArithmetic(text, j) : null;
        if (arith !== null) {
          s += arith.value;
          j = arith.end;
          continue;
        }
        s += text[j];
        j++;
      }
      if (j >= text.length) return null;
      cur += s;
      quoted = true;
      i = j;
    } else if (ch === '\\' && i + 1 < text.length) {
      cur += text[i + 1];
      i++;
    } else if (ch === '$' && text.startsWith('$((', i)) {
      const arith = expandArithmetic(text, i);
      if (arith === null) cur += ch;
      else {
        cur += arith.value;
        i = arith.end - 1;
      }
    } else {
      cur += ch;
    }
  }
  flush();
  return words;
}

/** Expands `$((15*1024*1024))` at `at`; null if it is not simple integer arithmetic. */
function expandArithmetic(text: string, at: number): { value: string; end: number } | null {
  const close = text.indexOf('))', at + 3);
  if (close < 0) return null;
  const value = evalArithmetic(text.slice(at + 3, close));
  return value === null ? null : { value: String(value), end: close + 2 };
}

/** Integer + - * / % and parentheses, as shell arithmetic does; null on anything else. */
export function evalArithmetic(expr: string): number | null {
  const tokens = expr.match(/\d+|[-+*/%()]|\S/g) ?? [];
  let pos = 0;
  const primary = (): number | null => {
    const t = tokens[pos++];
    if (t === undefined) return null;
    if (t === '(') {
      const v = sum();
      return tokens[pos++] === ')' ? v : null;
    }
    if (t === '-') {
      const v = primary();
      return v === null ? null : -v;
    }
    return /^\d+$/.test(t) ? Number(t) : null;
  };
  const product = (): number | null => {
    let v = primary();
    while (v !== null && (tokens[pos] === '*' || tokens[pos] === '/' || tokens[pos] === '%')) {
      const op = tokens[pos++];
      const r = primary();
      if (r === null || (op !== '*' && r === 0)) return null;
      v = op === '*' ? v * r : op === '/' ? Math.trunc(v / r) : v % r;
    }
    return v;
  };
  const sum = (): number | null => {
    let v = product();
    while (v !== null && (tokens[pos] === '+' || tokens[pos] === '-')) {
      const op = tokens[pos++];
      const r = product();
      if (r === null) return null;
      v = op === '+' ? v + r : v - r;
    }
    return v;
  };
  const v = sum();
  return v !== null && pos === tokens.length && Number.isSafeInteger(v) ? v : null;
}

/** `/proc/sys/net/ipv4/tcp_sack` -> `net.ipv4.tcp_sack`; other paths stay as they are. */
function pathToName(path: string): string {
  return path.startsWith('/proc/sys/') ? path.slice('/proc/sys/'.length).replaceAll('/', '.') : path;
}

/** Splits off redirections; returns the remaining words and the stdout target, if any. */
function stripRedirections(words: readonly Word[]): { args: string[]; stdout: string | null } {
  const args: string[] = [];
  let stdout: string | null = null;
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (w === undefined) break;
    const m = w.quoted ? null : /^(\d*|&)(>>?|<)(&\d+)?(.*)$/.exec(w.text);
    if (m === null) {
      args.push(w.text);
      continue;
    }
    let target = m[4] ?? '';
    if (target === '' && m[3] === undefined) target = words[++i]?.text ?? '';
    // Only a plain `>` of stdout can set a value (`echo 3 > /proc/sys/...`).
    if ((m[1] === '' || m[1] === '1') && m[2] === '>' && target !== '') stdout = target;
  }
  return { args, stdout };
}

function classify(text: string, words: readonly Word[], line: number, file: string | null): ShellItem | ShellItem[] {
  const ignored = (reason: string): IgnoredShellCommand => ({ kind: 'ignored', text, reason, line, file });
  if (words.some((w) => !w.quoted && w.text.includes('|'))) return ignored('pipeline');
  const { args, stdout } = stripRedirections(words);
  const [cmd, ...rest] = args;
  if (cmd === undefined) return ignored('empty command');
  const base = cmd.slice(cmd.lastIndexOf('/') + 1);
  const setting = (name: string, value: string): SysctlSetting => ({ kind: 'setting', name, value, line, file });

  if (base === 'defaults.sh') return { kind: 'include', path: cmd, line, file };
  if (base === 'sysctl') {
    const assignments = rest.filter((a) => !a.startsWith('-'));
    if (assignments.length === 0 || assignments.some((a) => !a.includes('='))) return ignored('sysctl without name=value (a read)');
    return assignments.map((a) => {
      const eq = a.indexOf('=');
      // sysctl accepts `net/ipv4/x` as well as `net.ipv4.x`.
      return setting(a.slice(0, eq).replaceAll('/', '.'), a.slice(eq + 1));
    });
  }
  if (base === 'set_sysctls.py') {
    if (rest.length === 0 || rest.some((a) => !a.includes('='))) return ignored('set_sysctls.py argument without path=value');
    return rest.map((a) => {
      const eq = a.indexOf('=');
      return setting(pathToName(a.slice(0, eq)), a.slice(eq + 1));
    });
  }
  if (base === 'echo' && stdout !== null && stdout.startsWith('/') && !stdout.startsWith('/dev/')) {
    return setting(pathToName(stdout), rest.join(' '));
  }
  if (/^sysctl_restore_.*\.sh$/.test(base)) return ignored('restores sysctls saved by set_sysctls.py (a fresh stack needs nothing)');
  return ignored(`unrecognised command '${base}'`);
}
