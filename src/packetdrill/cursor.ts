/**
 * A cursor over the token stream shared by the script and packet parsers:
 * look-ahead, expectations and `file:line:col` errors at the offending token.
 */
import { ScriptSyntaxError } from './errors.js';
import type { Token, TokenType } from './lexer.js';

const MAX_U32 = 0xffff_ffff;

export function describeToken(t: Token): string {
  switch (t.type) {
    case 'eof':
      return 'end of script';
    case 'string':
      return `string ${JSON.stringify(t.text)}`;
    case 'command':
      return 'shell command';
    case 'code':
      return 'python block';
    case 'option':
      return `option --${t.text}`;
    default:
      return `'${t.text}'`;
  }
}

export class TokenCursor {
  private index = 0;

  constructor(
    private readonly tokens: readonly Token[],
    readonly file: string,
    readonly source: string,
  ) {}

  peek(ahead = 0): Token {
    // The stream always ends with 'eof', so clamping keeps peeks total.
    const t = this.tokens[Math.min(this.index + ahead, this.tokens.length - 1)];
    if (t === undefined) throw new Error('token stream without eof');
    return t;
  }

  next(): Token {
    const t = this.peek();
    if (t.type !== 'eof') this.index++;
    return t;
  }

  /** True when the next token is the punctuation `p`. */
  isPunct(p: string, ahead = 0): boolean {
    const t = this.peek(ahead);
    return t.type === 'punct' && t.text === p;
  }

  /** True when the next token is the word `w`. */
  isWord(w: string, ahead = 0): boolean {
    const t = this.peek(ahead);
    return t.type === 'word' && t.text === w;
  }

  acceptPunct(p: string): boolean {
    if (!this.isPunct(p)) return false;
    this.next();
    return true;
  }

  acceptWord(w: string): boolean {
    if (!this.isWord(w)) return false;
    this.next();
    return true;
  }

  expectPunct(p: string, what?: string): Token {
    if (!this.isPunct(p)) throw this.errorAt(this.peek(), `expected '${p}'${what === undefined ? '' : ` ${what}`}, got ${describeToken(this.peek())}`);
    return this.next();
  }

  expectWord(what: string): Token {
    const t = this.peek();
    if (t.type !== 'word') throw this.errorAt(t, `expected ${what}, got ${describeToken(t)}`);
    return this.next();
  }

  expectKeyword(w: string): Token {
    if (!this.isWord(w)) throw this.errorAt(this.peek(), `expected '${w}', got ${describeToken(this.peek())}`);
    return this.next();
  }

  expectType(type: TokenType, what: string): Token {
    const t = this.peek();
    if (t.type !== type) throw this.errorAt(t, `expected ${what}, got ${describeToken(t)}`);
    return this.next();
  }

  /** A non-negative decimal or hex integer that fits in 32 bits (ports, seq, windows, ...). */
  expectU32(what: string): number {
    const t = this.peek();
    if (t.type !== 'int' && t.type !== 'hex') throw this.errorAt(t, `expected ${what} (an integer), got ${describeToken(t)}`);
    const value = Number(t.text);
    if (!Number.isInteger(value) || value < 0 || value > MAX_U32) throw this.errorAt(t, `${what} ${t.text} is out of range 0..${MAX_U32}`);
    this.next();
    return value;
  }

  errorAt(t: Token, message: string): ScriptSyntaxError {
    return new ScriptSyntaxError(this.file, t.line, t.column, message);
  }
}
