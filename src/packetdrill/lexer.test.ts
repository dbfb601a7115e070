import { describe, expect, it } from 'vitest';
import { ScriptSyntaxError } from './errors.js';
import { secondsTextToUsecs, tokenize, type Token } from './lexer.js';

const brief = (tokens: Token[]): string[] => tokens.filter((t) => t.type !== 'eof').map((t) => `${t.type}:${t.text}`);

describe('tokenize', () => {
  it('splits a blocking-call time into relative float, ellipsis and end time', () => {
    expect(brief(tokenize('+.1...0.200 connect'))).toEqual(['punct:+', 'float:.1', 'ellipsis:...', 'float:0.200', 'word:connect']);
    expect(brief(tokenize('+0...0 x'))).toEqual(['punct:+', 'int:0', 'ellipsis:...', 'int:0', 'word:x']);
  });

  it('lexes flags, sequence numbers and the ACK dot', () => {
    expect(brief(tokenize('S. 0:0(0) ack 1'))).toEqual(['word:S', 'punct:.', 'int:0', 'punct::', 'int:0', 'punct:(', 'int:0', 'punct:)', 'word:ack', 'int:1']);
  });

  it('keeps digit-led cookies whole and tells hex and negative integers apart', () => {
    expect(brief(tokenize('FO 3021b9d889017eeb 00000000 0x7fffffff -1'))).toEqual([
      'word:FO',
      'blob:3021b9d889017eeb',
      'int:00000000',
      'hex:0x7fffffff',
      'int:-1',
    ]);
  });

  it('skips // and /* */ comments, keeps positions', () => {
    const tokens = tokenize('// one\n  /* two\nlines */ x // tail\n y');
    expect(brief(tokens)).toEqual(['word:x', 'word:y']);
    expect(tokens[0]).toMatchObject({ line: 3, column: 10 });
    expect(tokens[1]).toMatchObject({ line: 4, column: 2 });
  });

  it('takes backquoted commands and python blocks as opaque text across lines', () => {
    const tokens = tokenize('`a\nb # c` +0 %{ x = 1\n}%');
    expect(tokens[0]).toMatchObject({ type: 'command', text: 'a\nb # c', line: 1 });
    expect(tokens[3]).toMatchObject({ type: 'code', text: ' x = 1\n', line: 2 });
  });

  it('lexes --options with and without values', () => {
    const tokens = tokenize('--tolerance_usecs=10000 --strict_segments --ip="a b"');
    expect(tokens.slice(0, 3).map((t) => [t.type, t.text, t.value])).toEqual([
      ['option', 'tolerance_usecs', '10000'],
      ['option', 'strict_segments', null],
      ['option', 'ip', 'a b'],
    ]);
  });

  it('unescapes strings', () => {
    expect(tokenize('"a\\"b\\n"')[0]).toMatchObject({ type: 'string', text: 'a"b\n' });
  });

  it('reports file:line:col on bad input', () => {
    expect(() => tokenize('x\n  @', 'f.pkt')).toThrow(new ScriptSyntaxError('f.pkt', 2, 3, 'unexpected character "@"'));
    expect(() => tokenize('  `never closed', 'f.pkt')).toThrow('f.pkt:1:3: unterminated `shell command`');
    expect(() => tokenize('%{ x', 'f.pkt')).toThrow('f.pkt:1:1: unterminated %{ python block }%');
    expect(() => tokenize('/* x', 'f.pkt')).toThrow('f.pkt:1:1: unterminated /* comment');
    expect(() => tokenize('"abc', 'f.pkt')).toThrow('f.pkt:1:1: unterminated string');
  });
});

describe('secondsTextToUsecs', () => {
  it('converts decimal seconds exactly', () => {
    expect(secondsTextToUsecs('0')).toBe(0);
    expect(secondsTextToUsecs('.1')).toBe(100_000);
    expect(secondsTextToUsecs('0.200')).toBe(200_000);
    expect(secondsTextToUsecs('1.5')).toBe(1_500_000);
    expect(secondsTextToUsecs('0.000001')).toBe(1);
    expect(secondsTextToUsecs('0.0000015')).toBe(2); // rounded half up
    expect(secondsTextToUsecs('12')).toBe(12_000_000);
  });
});
