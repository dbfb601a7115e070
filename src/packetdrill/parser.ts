/**
 * The packetdrill script parser: options header, timed events (packets,
 * syscalls, shell commands, python blocks) and the untimed init/cleanup
 * commands. Pure and runtime-agnostic; it never throws — a syntax error
 * comes back as a `file:line:col: message` value.
 */
import type {
  Action,
  AssignTarget,
  EventTime,
  Expression,
  Script,
  ScriptEvent,
  ScriptOption,
  SyscallSpec,
  TimePoint,
} from './ast.js';
import { describeToken, TokenCursor } from './cursor.js';
import { ScriptSyntaxError } from './errors.js';
import { secondsTextToUsecs, tokenize, type Token } from './lexer.js';
import { parsePacket } from './packet-parser.js';

export type ParseScriptResult =
  | { readonly ok: true; readonly script: Script }
  | { readonly ok: false; readonly error: ScriptSyntaxError };

export interface ParseScriptOptions {
  /** Used in error messages; defaults to `<script>`. */
  readonly file?: string;
}

/** Parses a whole script. Never throws. */
export function parseScript(source: string, options: ParseScriptOptions = {}): ParseScriptResult {
  const file = options.file ?? '<script>';
  try {
    const cur = new TokenCursor(tokenize(source, file), file, source);
    return { ok: true, script: parseTokens(cur) };
  } catch (e) {
    if (e instanceof ScriptSyntaxError) return { ok: false, error: e };
    // A bug in this parser rather than in the script: still report a location.
    const detail = e instanceof Error ? e.message : String(e);
    return { ok: false, error: new ScriptSyntaxError(file, 1, 1, `internal parser error: ${detail}`) };
  }
}

/** Like parseScript, but throws the ScriptSyntaxError (whose message is `file:line:col: ...`). */
export function parseScriptOrThrow(source: string, options: ParseScriptOptions = {}): Script {
  const r = parseScript(source, options);
  if (!r.ok) throw r.error;
  return r.script;
}

/**
 * Parses one expression, such as a syscall argument (for tests and the runner).
 * @throws ScriptSyntaxError (message `file:line:col: ...`) on bad input.
 */
export function parseExpression(source: string, options: ParseScriptOptions = {}): Expression {
  const file = options.file ?? '<expression>';
  const cur = new TokenCursor(tokenize(source, file), file, source);
  const e = parseExpr(cur);
  expectEof(cur);
  return e;
}

function expectEof(cur: TokenCursor): void {
  const t = cur.peek();
  if (t.type !== 'eof') throw cur.errorAt(t, `unexpected ${describeToken(t)}`);
}

function parseTokens(cur: TokenCursor): Script {
  const options: ScriptOption[] = [];
  const events: ScriptEvent[] = [];
  for (;;) {
    const t = cur.peek();
    if (t.type === 'eof') break;
    if (t.type === 'option') {
      // The grammar puts options before everything else (opt_options comes first).
      if (events.length > 0) throw cur.errorAt(t, `option --${t.text} must come before the first event`);
      cur.next();
      options.push({ line: t.line, name: t.text, value: t.value });
      continue;
    }
    if (t.type === 'command') {
      // init_command / cleanup_command: a shell command without a time.
      cur.next();
      events.push({ line: t.line, time: null, action: { kind: 'command', line: t.line, command: t.text } });
      continue;
    }
    events.push(parseEvent(cur));
  }
  return { options, events };
}

function parseEvent(cur: TokenCursor): ScriptEvent {
  const first = cur.peek();
  const line = first.line;
  const time = parseEventTime(cur);
  return { line, time, action: parseAction(cur, line) };
}

function parseTimeValue(cur: TokenCursor): number {
  const t = cur.peek();
  if (t.type !== 'int' && t.type !== 'float') throw cur.errorAt(t, `expected a time in seconds, got ${describeToken(t)}`);
  if (t.text.startsWith('-')) throw cur.errorAt(t, `a time cannot be negative: ${t.text}`);
  cur.next();
  return secondsTextToUsecs(t.text);
}

function parseTimePoint(cur: TokenCursor): TimePoint {
  const relative = cur.acceptPunct('+');
  return { relative, usecs: parseTimeValue(cur) };
}

function parseEventTime(cur: TokenCursor): EventTime {
  const t = cur.peek();
  if (cur.acceptPunct('*')) return { kind: 'any' };
  if (!cur.isPunct('+') && t.type !== 'int' && t.type !== 'float') {
    throw cur.errorAt(t, `expected an event time (such as 0, +0.1 or *), got ${describeToken(t)}`);
  }
  const start = parseTimePoint(cur);
  if (cur.acceptPunct('~')) return { kind: 'range', start, end: parseTimePoint(cur) };
  return start.relative ? { kind: 'relative', usecs: start.usecs } : { kind: 'absolute', usecs: start.usecs };
}

function parseAction(cur: TokenCursor, line: number): Action {
  const t = cur.peek();
  if (t.type === 'command') {
    cur.next();
    return { kind: 'command', line, command: t.text };
  }
  if (t.type === 'code') {
    cur.next();
    return { kind: 'code', line, code: t.text };
  }
  if (cur.isPunct('<') || cur.isPunct('>')) return { kind: 'packet', packet: parsePacket(cur, line) };
  if (t.type === 'word' || t.type === 'ellipsis') return { kind: 'syscall', call: parseSyscall(cur, line) };
  throw cur.errorAt(t, `expected a packet ('<' or '>'), a syscall, a \`shell command\` or a %{ python }% block, got ${describeToken(t)}`);
}

function parseSyscall(cur: TokenCursor, line: number): SyscallSpec {
  let endUsecs: number | null = null;
  if (cur.peek().type === 'ellipsis') {
    cur.next();
    endUsecs = parseTimeValue(cur);
  }
  const name = cur.expectWord('a syscall name').text;
  cur.expectPunct('(', `after syscall name '${name}'`);
  const args = parseExprList(cur, ')');
  cur.expectPunct(')', `to close the arguments of ${name}()`);
  cur.expectPunct('=', `and the expected result after ${name}(...)`);
  // The result may not be a call: `= 0x2 (flags O_RDWR)` is a value and a note.
  const result = parseExpr(cur, false);
  let errno: string | null = null;
  if (cur.peek().type === 'word') errno = cur.next().text;
  const note = cur.isPunct('(') ? parseNote(cur) : null;
  return { line, name, args, endUsecs, result, errno, note };
}

/** `(Resource temporarily unavailable)`: free text up to the matching parenthesis. */
function parseNote(cur: TokenCursor): string {
  const open = cur.next();
  let depth = 1;
  let last: Token = open;
  for (;;) {
    const t = cur.peek();
    if (t.type === 'eof') throw cur.errorAt(open, "unterminated '(' note after the syscall result");
    cur.next();
    if (t.type === 'punct' && t.text === '(') depth++;
    if (t.type === 'punct' && t.text === ')' && --depth === 0) break;
    last = t;
  }
  return cur.source.slice(open.end, last === open ? open.end : last.end).trim().replace(/\s+/g, ' ');
}

function parseExprList(cur: TokenCursor, close: string): Expression[] {
  const list: Expression[] = [];
  if (cur.isPunct(close)) return list;
  do list.push(parseExpr(cur));
  while (cur.acceptPunct(','));
  return list;
}

function parseExpr(cur: TokenCursor, allowCall = true): Expression {
  const first = parsePrimary(cur, allowCall);
  if (cur.isPunct('|')) {
    const operands = [first];
    while (cur.acceptPunct('|')) operands.push(parsePrimary(cur, allowCall));
    return { kind: 'or', operands };
  }
  if ((first.kind === 'word' || first.kind === 'call') && cur.isPunct('=') && allowCall) {
    cur.next();
    const target: AssignTarget = first;
    return { kind: 'assign', target, value: parseExpr(cur) };
  }
  return first;
}

function intFromToken(t: Token): Expression {
  const negative = t.text.startsWith('-');
  const digits = negative ? t.text.slice(1) : t.text;
  const hex = t.type === 'hex';
  const magnitude = hex ? Number.parseInt(digits.slice(2), 16) : Number(digits);
  return { kind: 'int', value: negative ? -magnitude : magnitude, hex };
}

function parsePrimary(cur: TokenCursor, allowCall: boolean): Expression {
  const t = cur.peek();
  switch (t.type) {
    case 'ellipsis':
      cur.next();
      return { kind: 'ellipsis' };
    case 'int':
    case 'hex': {
      cur.next();
      const e = intFromToken(t);
      if (e.kind === 'int' && !Number.isSafeInteger(e.value)) throw cur.errorAt(t, `integer ${t.text} is too large`);
      return e;
    }
    case 'string': {
      cur.next();
      const ellipsis = cur.peek().type === 'ellipsis';
      if (ellipsis) cur.next();
      return { kind: 'string', value: t.text, ellipsis };
    }
    case 'word': {
      cur.next();
      if (allowCall && cur.isPunct('(')) {
        cur.next();
        const args = parseExprList(cur, ')');
        cur.expectPunct(')', `to close ${t.text}(...)`);
        return { kind: 'call', name: t.text, args };
      }
      return { kind: 'word', name: t.text };
    }
    case 'punct':
      if (t.text === '[') {
        cur.next();
        const elements = parseExprList(cur, ']');
        cur.expectPunct(']', 'to close the array');
        return { kind: 'array', elements };
      }
      if (t.text === '{') {
        cur.next();
        const fields = parseExprList(cur, '}');
        cur.expectPunct('}', 'to close the struct');
        return { kind: 'struct', fields };
      }
      break;
    default:
      break;
  }
  throw cur.errorAt(t, `expected an expression, got ${describeToken(t)}`);
}
