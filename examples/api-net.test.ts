// The README's net example, run as a user would run it (real time, then exit).
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('examples/api-net.ts', () => {
  it('echoes over the net drop-in, serves Node http over it, and exits', () => {
    const tsx = new URL('../node_modules/.bin/tsx', import.meta.url).pathname;
    const out = execFileSync(tsx, [new URL('./api-net.ts', import.meta.url).pathname], { encoding: 'utf8', timeout: 60_000 });
    expect(out).toBe('echo from 10.0.0.1: hello, net\nhttp 200: hello from /index.html\n');
  });
});
