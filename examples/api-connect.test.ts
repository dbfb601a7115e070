// The README's connect() example, run as a user would run it (real time, then exit).
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('examples/api-connect.ts', () => {
  it('pipes a stream through a connect() socket, reads the answer, and exits', () => {
    const tsx = new URL('../node_modules/.bin/tsx', import.meta.url).pathname;
    const out = execFileSync(tsx, [new URL('./api-connect.ts', import.meta.url).pathname], { encoding: 'utf8', timeout: 60_000 });
    expect(out).toMatch(/^connected 10\.0\.0\.2:\d+ -> 10\.0\.0\.1:7\ngot "HELLO, WEB SOCKETS"\n$/);
  });
});
