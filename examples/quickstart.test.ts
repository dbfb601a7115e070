// The README's socket example, run as a user would run it (real time, then exit).
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('examples/quickstart.ts', () => {
  it('echoes over TCP between two stacks and lets the process exit', () => {
    const tsx = new URL('../node_modules/.bin/tsx', import.meta.url).pathname;
    const out = execFileSync(tsx, [new URL('./quickstart.ts', import.meta.url).pathname], { encoding: 'utf8', timeout: 60_000 });
    expect(out).toContain('client got "hello, sockstack" eof: 0');
    expect(out).toMatch(/server saw \{ address: '10\.0\.0\.2', port: \d+ \}/);
  });
});
