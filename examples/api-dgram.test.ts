// The README's dgram example, run as a user would run it (real time, then exit).
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('examples/api-dgram.ts', () => {
  it('sends a datagram, gets the upper-cased reply, and exits', () => {
    const tsx = new URL('../node_modules/.bin/tsx', import.meta.url).pathname;
    const out = execFileSync(tsx, [new URL('./api-dgram.ts', import.meta.url).pathname], { encoding: 'utf8', timeout: 60_000 });
    expect(out).toMatch(/^server got "hello, dgram" from 10\.0\.0\.2:\d+\nclient got "HELLO, DGRAM"\n$/);
  });
});
