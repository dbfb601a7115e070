import { describe, expect, it } from 'vitest';
import { flagNames, intValue, structField, structFieldArgs } from './expr.js';
import { parseExpression } from './parser.js';

describe('expression readers', () => {
  it('reads struct fields', () => {
    const msg = parseExpression('{msg_name(...)=..., msg_iov(2)=[{..., 10}, {..., 20}], msg_flags=0}');
    expect(structField(msg, 'msg_flags')).toEqual({ kind: 'int', value: 0, hex: false });
    expect(structFieldArgs(msg, 'msg_iov')).toEqual([{ kind: 'int', value: 2, hex: false }]);
    expect(structField(msg, 'msg_iov')).toMatchObject({ kind: 'array', elements: [{}, {}] });
    expect(structField(msg, 'nope')).toBeUndefined();
    expect(intValue(structField(parseExpression('{fd=4, events=POLLIN}'), 'fd'))).toBe(4);
    expect(intValue(parseExpression('NULL'))).toBeUndefined();
  });

  it('reads flag expressions', () => {
    expect(flagNames(parseExpression('O_RDWR|O_NONBLOCK|0x10'))).toEqual(['O_RDWR', 'O_NONBLOCK', 16]);
    expect(flagNames(parseExpression('MSG_MORE'))).toEqual(['MSG_MORE']);
    expect(flagNames(parseExpression('[1]'))).toBeUndefined();
  });
});
