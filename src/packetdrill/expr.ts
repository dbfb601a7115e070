/**
 * Small readers over syscall-argument expressions, so the runner can pull
 * fields out of struct literals (`{fd=4, events=POLLIN}`,
 * `{msg_name(...)=..., msg_iov(1)=[...], msg_flags=0}`) without walking the
 * AST by hand.
 */
import type { Expression } from './ast.js';

/** The value assigned to `name` in a struct literal (`fd` in `{fd=4}`, `msg_iov` in `{msg_iov(1)=[...]}`). */
export function structField(e: Expression, name: string): Expression | undefined {
  if (e.kind !== 'struct') return undefined;
  for (const f of e.fields) {
    if (f.kind === 'assign' && f.target.name === name) return f.value;
  }
  return undefined;
}

/** The argument list of a call-style field target: `[1]` for `msg_iov(1)=...`. */
export function structFieldArgs(e: Expression, name: string): readonly Expression[] | undefined {
  if (e.kind !== 'struct') return undefined;
  for (const f of e.fields) {
    if (f.kind === 'assign' && f.target.kind === 'call' && f.target.name === name) return f.target.args;
  }
  return undefined;
}

/** An integer literal's value, or undefined for anything else. */
export function intValue(e: Expression | undefined): number | undefined {
  return e?.kind === 'int' ? e.value : undefined;
}

/** The constant names of `A|B|C` (or of a single word); undefined if any operand is not a plain name or integer. */
export function flagNames(e: Expression): (string | number)[] | undefined {
  const operands = e.kind === 'or' ? e.operands : [e];
  const out: (string | number)[] = [];
  for (const o of operands) {
    if (o.kind === 'word') out.push(o.name);
    else if (o.kind === 'int') out.push(o.value);
    else return undefined;
  }
  return out;
}
