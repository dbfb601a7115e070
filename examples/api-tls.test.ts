// The README's TLS example, run as a user would run it (real time, then exit).
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('examples/api-tls.ts', () => {
  it('connects with secureTransport "on", reads the TLS server greeting, and exits', () => {
    const tsx = new URL('../node_modules/.bin/tsx', import.meta.url).pathname;
    const out = execFileSync(tsx, [new URL('./api-tls.ts', import.meta.url).pathname], { encoding: 'utf8', timeout: 60_000 });
    expect(out).toMatch(/^got "hello over TLSv1\.[23]"\n$/);
  });
});
