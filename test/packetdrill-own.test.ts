/**
 * Runs our own packetdrill scripts (test/packetdrill/*.pkt: RFC 5961 challenge
 * ACKs, TIME-WAIT, keep-alives, zero-window probes). Each script is written
 * to Linux's behaviour; one that sockstack fails today goes in
 * EXPECTED_FAILURES with the reason, and the test fails if a listed script
 * starts passing (update the list) or an unlisted one fails.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScript } from '../src/packetdrill/runner.js';

const DIR = resolve(import.meta.dirname, 'packetdrill');
const SEED = 1;

/** file name -> why sockstack differs from Linux there. Empty: all pass. */
const EXPECTED_FAILURES: Readonly<Record<string, string>> = {};

const scripts = readdirSync(DIR)
  .filter((f) => f.endsWith('.pkt'))
  .sort();

function source(name: string): string {
  return readFileSync(resolve(DIR, name), 'utf8');
}

describe('own packetdrill scripts (test/packetdrill)', () => {
  it('has the scripts', () => {
    expect(scripts.length).toBeGreaterThanOrEqual(4);
    for (const name of Object.keys(EXPECTED_FAILURES)) expect(scripts).toContain(name);
  });

  for (const name of scripts) {
    const reason = EXPECTED_FAILURES[name];
    it(`${name}${reason === undefined ? '' : ` (expected failure: ${reason})`}`, async () => {
      const r = await runScript(source(name), { seed: SEED });
      if (reason === undefined) {
        expect(r.error).toBeNull();
        expect(r.passed).toBe(true);
      } else {
        expect(r.passed, `${name} passes now; remove it from EXPECTED_FAILURES`).toBe(false);
      }
    }, 30_000);
  }

  // The scripts must be able to fail: dropping an expected packet or moving
  // its time must make the runner complain.
  it('fails when the challenge ACK is not expected', async () => {
    const s = source('rst-in-window-challenge-ack.pkt').replace(/^ {2}\+\.1 < R\. 1001:1001\(0\) ack 1 win 257\n {3}\+0 > \. 1:1\(0\) ack 1\n/m, '  +.1 < R. 1001:1001(0) ack 1 win 257\n');
    expect(s).not.toBe(source('rst-in-window-challenge-ack.pkt'));
    const r = await runScript(s, { seed: SEED });
    expect(r.passed).toBe(false);
  });

  it('fails when a keep-alive probe is expected at the wrong time', async () => {
    const s = source('keepalive.pkt').replace('   +2 > . 0:0(0) ack 1\n   +0 < . 1:1(0) ack 1 win 257', '   +1 > . 0:0(0) ack 1\n   +0 < . 1:1(0) ack 1 win 257');
    expect(s).not.toBe(source('keepalive.pkt'));
    const r = await runScript(s, { seed: SEED });
    expect(r.passed).toBe(false);
  });

  it('fails when TIME-WAIT is expected to end early', async () => {
    const s = source('time-wait.pkt').replace('  +59 < F. 1:1(0) ack 2 win 257\n   +0 > . 2:2(0) ack 2', '  +59 < F. 1:1(0) ack 2 win 257\n   +0 > R 2:2(0)');
    expect(s).not.toBe(source('time-wait.pkt'));
    const r = await runScript(s, { seed: SEED });
    expect(r.passed).toBe(false);
  });

  it('fails when zero-window probes are expected without backoff', async () => {
    const s = source('zero-window-probe.pkt').replace('  +.8 > . 1000:1000(0) ack 1', '  +.4 > . 1000:1000(0) ack 1');
    expect(s).not.toBe(source('zero-window-probe.pkt'));
    const r = await runScript(s, { seed: SEED });
    expect(r.passed).toBe(false);
  });
});
