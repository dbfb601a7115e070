// The README's demonstration must keep working: run it as a user would.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dissect, readPcap } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'sockstack-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run demo', () => {
  it('prints the conversation, counts the malformed segment and writes a readable pcap', () => {
    const pcapPath = join(dir, 'demo.pcap');
    const tsx = new URL('../node_modules/.bin/tsx', import.meta.url).pathname;
    const out = execFileSync(tsx, [new URL('./demo.ts', import.meta.url).pathname, '--pcap', pcapPath], {
      encoding: 'utf8',
    });
    expect(out).toContain('ARP who-has 10.0.0.2 tell 10.0.0.1');
    expect(out).toContain('<mss 1460,sackOK,TS val 1000 ecr 0,nop,wscale 7>');
    expect(out).toContain("'dropped.tcp.bad-option': 1");
    const file = readPcap(new Uint8Array(readFileSync(pcapPath)));
    if (!file.ok) throw new Error(`pcap unreadable: ${file.reason}`);
    expect(file.value.records).toHaveLength(15);
    const errors = file.value.records.map((r) => dissect(r.data, 'ethernet').error);
    expect(errors.filter((e) => e !== undefined)).toEqual([{ layer: 'tcp', reason: 'bad-option' }]);
  });
});
