/**
 * The packetdrill lexer. Newlines are plain whitespace in packetdrill (a
 * syscall may span lines, e.g. a multi-line sendmsg() msghdr), so the token
 * stream carries positions but no line breaks.
 */
import { ScriptSyntaxError } from './errors.js';

export type TokenType =
  | 'int' // 42, -1
  | 'hex' // 0x2f
  | 'float' // .1, 0.200
  | 'blob' // digit-led alphanumerics such as the FO cookie 3021b9d889017eeb
  | 'word' // identifiers: S, ack, O_NONBLOCK, sackOK
  | 'string' // "..." (text holds the unescaped value)
  | 'ellipsis' // ...
  | 'command' // `...` (text holds what is between the backquotes)
  | 'code' // %{ ... }% (text holds what is between the braces)
  | 'option' // --name or --name=value (text holds the name, value the value)
  | 'punct' // one of + * ~ < > . - : ( ) [ ] { } , = | %
  | 'eof';

export interface Token {
  readonly type: TokenType;
  readonly text: string;
  /** For 'option': the value after `=`, or null. */
  readonly value: string | null;
  readonly line: number;
  readonly column: number;
  /** Offsets of the token in the source: [start, end). */
  readonly start: number;
  readonly end: number;
}

const PUNCT = '+*~<>.-:()[]{},=|%';

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

function isIdentStart(c: string | undefined): boolean {
  return c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_');
}

function isIdentPart(c: string | undefined): boolean {
  return isIdentStart(c) || isDigit(c);
}

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';
}

/**
 * Splits `source` into tokens, ending with one 'eof' token.
 * @throws ScriptSyntaxError on text that no token can start with.
 */
export function tokenize(source: string, file = '<script>'): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  let line = 1;
  let lineStart = 0;

  const error = (at: number, atLine: number, atLineStart: number, message: string): ScriptSyntaxError =>
    new ScriptSyntaxError(file, atLine, at - atLineStart + 1, message);

  // Advances over source[pos..to), keeping the line count right.
  const advanceTo = (to: number): void => {
    for (let i = pos; i < to; i++) {
      if (source[i] === '\n') {
        line++;
        lineStart = i + 1;
      }
    }
    pos = to;
  };

  while (pos < source.length) {
    const c = source[pos];
    const next = source[pos + 1];
    if (isSpace(c)) {
      advanceTo(pos + 1);
      continue;
    }
    if (c === '/' && next === '/') {
      const eol = source.indexOf('\n', pos);
      advanceTo(eol < 0 ? source.length : eol);
      continue;
    }
    if (c === '/' && next === '*') {
      const close = source.indexOf('*/', pos + 2);
      if (close < 0) throw error(pos, line, lineStart, 'unterminated /* comment');
      advanceTo(close + 2);
      continue;
    }

    const start = pos;
    const startLine = line;
    const column = pos - lineStart + 1;
    const push = (type: TokenType, text: string, end: number, value: string | null = null): void => {
      tokens.push({ type, text, value, line: startLine, column, start, end });
      advanceTo(end);
    };

    if (c === '`') {
      const close = source.indexOf('`', pos + 1);
      if (close < 0) throw error(pos, line, lineStart, 'unterminated `shell command`');
      push('command', source.slice(pos + 1, close), close + 1);
      continue;
    }
    if (c === '%' && next === '{') {
      const close = source.indexOf('}%', pos + 2);
      if (close < 0) throw error(pos, line, lineStart, 'unterminated %{ python block }%');
      push('code', source.slice(pos + 2, close), close + 2);
      continue;
    }
    if (c === '"') {
      const { value, end } = scanString(source, pos, () => error(pos, line, lineStart, 'unterminated string'));
      push('string', value, end);
      continue;
    }
    if (c === '-' && next === '-' && isIdentStart(source[pos + 2])) {
      let end = pos + 2;
      while (isIdentPart(source[end]) || source[end] === '-') end++;
      const name = source.slice(pos + 2, end);
      let value: string | null = null;
      if (source[end] === '=') {
        end++;
        if (source[end] === '"') {
          const s = scanString(source, end, () => error(pos, line, lineStart, 'unterminated string'));
          value = s.value;
          end = s.end;
        } else {
          const valueStart = end;
          while (end < source.length && !isSpace(source[end])) end++;
          value = source.slice(valueStart, end);
        }
      }
      push('option', name, end, value);
      continue;
    }
    if (c === '.' && next === '.' && source[pos + 2] === '.') {
      push('ellipsis', '...', pos + 3);
      continue;
    }
    // A float may start with its point: `+.1` is a tenth of a second.
    if (isDigit(c) || (c === '.' && isDigit(next)) || (c === '-' && isDigit(next))) {
      push(...scanNumber(source, pos));
      continue;
    }
    if (isIdentStart(c)) {
      let end = pos + 1;
      while (isIdentPart(source[end])) end++;
      push('word', source.slice(pos, end), end);
      continue;
    }
    if (c !== undefined && PUNCT.includes(c)) {
      push('punct', c, pos + 1);
      continue;
    }
    throw error(pos, line, lineStart, `unexpected character ${JSON.stringify(c)}`);
  }
  tokens.push({ type: 'eof', text: '', value: null, line, column: pos - lineStart + 1, start: pos, end: pos });
  return tokens;
}

function scanString(source: string, pos: number, onError: () => Error): { value: string; end: number } {
  let value = '';
  let i = pos + 1;
  for (;;) {
    const ch = source[i];
    if (ch === undefined || ch === '\n') throw onError();
    if (ch === '"') return { value, end: i + 1 };
    if (ch === '\\') {
      const esc = source[i + 1];
      if (esc === undefined) throw onError();
      value += esc === 'n' ? '\n' : esc === 't' ? '\t' : esc === 'r' ? '\r' : esc === '0' ? '\0' : esc;
      i += 2;
      continue;
    }
    value += ch;
    i++;
  }
}

function scanNumber(source: string, pos: number): [TokenType, string, number] {
  let end = pos;
  if (source[end] === '-') end++;
  if (source[end] === '0' && (source[end + 1] === 'x' || source[end + 1] === 'X') && /[0-9a-fA-F]/.test(source[end + 2] ?? '')) {
    end += 2;
    while (/[0-9a-fA-F]/.test(source[end] ?? '')) end++;
    // `0xabcdzz` is no number; treat the run as a blob.
    if (!isIdentPart(source[end])) return ['hex', source.slice(pos, end), end];
  }
  while (isDigit(source[end])) end++;
  // `1.5` but not `0...0.2` (an int then an ellipsis).
  if (source[end] === '.' && isDigit(source[end + 1])) {
    end++;
    while (isDigit(source[end])) end++;
    return ['float', source.slice(pos, end), end];
  }
  if (isIdentPart(source[end])) {
    while (isIdentPart(source[end])) end++;
    return ['blob', source.slice(pos, end), end];
  }
  return ['int', source.slice(pos, end), end];
}

/**
 * Converts decimal seconds as written (`1`, `.1`, `0.200`) to integer
 * microseconds without floating point, so `0.1` is exactly 100000.
 * Digits past the microsecond are rounded half up.
 */
export function secondsTextToUsecs(text: string): number {
  const dot = text.indexOf('.');
  const whole = dot < 0 ? text : text.slice(0, dot);
  const frac = dot < 0 ? '' : text.slice(dot + 1);
  let usecs = (whole === '' ? 0 : Number(whole)) * 1_000_000 + Number((frac + '000000').slice(0, 6));
  if (isDigit(frac[6]) && (frac[6] ?? '0') >= '5') usecs += 1;
  return usecs;
}
