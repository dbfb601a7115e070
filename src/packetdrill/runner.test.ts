/**
 * Runs the 35 scripts of ../shared/conformance/packetdrill/SUBSET.tsv. The
 * ones that fail today are listed with the reason; the test fails if a
 * listed one starts passing (update the list) or an unlisted one fails.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScriptFile } from '../cli/packetdrill.js';
import { runScript, tcpConfigFromSysctls } from './runner.js';

const ROOT = resolve(import.meta.dirname, '../../../shared/conformance/packetdrill');
const SUBSET = resolve(ROOT, 'SUBSET.tsv');
const present = existsSync(SUBSET);

/** path -> why it fails now (runner limitation or stack difference from Linux). */
const EXPECTED_FAILURES: Readonly<Record<string, string>> = {};

/**
 * path -> the CONFIG_HZ of the kernel its timings were recorded on, where
 * that is not the runner's default (DEFAULT_PACKETDRILL_HZ, 1000), and how
 * we know. The script runs with `--hz` set to it.
 */
const RECORDED_HZ: Readonly<Record<string, { hz: number; why: string }>> = {
  'gtests/tcp/fast_retransmit/fr-4pkt-fack-last-mss.pkt': {
    hz: 250,
    why: 'the RACK reorder timer 25 ms after the SACK is 7 + 2 jiffies = 36 ms at HZ=250 (the script: +.040, tolerance 4 ms), 27 ms at HZ=1000; the script came in 2023 "tested on Linux 6.1 running on GCE", while sack-shift-sacked-7-3-4-8-9-fack.pkt (2019) expects +.027 for the same arithmetic',
  },
};

function subsetPaths(): string[] {
  return readFileSync(SUBSET, 'utf8')
    .split('\n')
    .slice(1)
    .map((l) => l.split('\t')[0] ?? '')
    .filter((p) => p !== '');
}

describe.skipIf(!present)('packetdrill SUBSET.tsv (skipped: ../shared/conformance/packetdrill is absent)', () => {
  it('passes every script except the listed expected failures', async () => {
    const paths = subsetPaths();
    expect(paths.length).toBe(35);
    const unexpected: string[] = [];
    let passed = 0;
    for (const p of paths) {
      const hz = RECORDED_HZ[p]?.hz;
      const r = await runScriptFile(resolve(ROOT, p), hz === undefined ? {} : { hz: String(hz) });
      if (r.passed) passed++;
      const listed = p in EXPECTED_FAILURES;
      if (r.passed && listed) unexpected.push(`${p}: passes now; remove it from EXPECTED_FAILURES`);
      if (!r.passed && !listed) unexpected.push(`${p}: ${r.error ?? 'failed'}`);
    }
    expect(unexpected).toEqual([]);
    expect(passed).toBe(35 - Object.keys(EXPECTED_FAILURES).length);
  }, 120_000);

  it('the RACK reorder timer of two scripts recorded at different HZ: each passes at its own and fails at the other', async () => {
    const fr = resolve(ROOT, 'gtests/tcp/fast_retransmit/fr-4pkt-fack-last-mss.pkt');
    const shift = resolve(ROOT, 'gtests/tcp/sack/sack-shift-sacked-7-3-4-8-9-fack.pkt');
    // SACK at 0.200 s; RACK.rtt 100 ms + reo_wnd 25 ms - 100 ms elapsed = 25 ms left.
    expect((await runScriptFile(fr, { hz: '250' })).error).toBeNull();
    expect((await runScriptFile(fr, { hz: '1000' })).error).toMatch(/^line 27: .* sent at 0\.227000 s, expected at 0\.240000 s/);
    expect((await runScriptFile(shift, { hz: '1000' })).error).toBeNull();
    expect((await runScriptFile(shift, { hz: '250' })).error).toMatch(/^line 24: expected > \. 1:1001\(1000\) ack 1 got nothing by 0\.231000 s/);
  });
});

describe('runScript', () => {
  const handshake = `
--tolerance_usecs=1000
0 \`sysctl -q net.ipv4.tcp_timestamps=0\`
    0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
   +0 bind(3, ..., ...) = 0
   +0 listen(3, 1) = 0
   +0 < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>
   +0 > S. 0:0(0) ack 1 <mss 1460,nop,wscale 7>
  +.1 < . 1:1(0) ack 1 win 257
   +0 accept(3, ..., ...) = 4
`;

  it('runs a handshake and an accept', async () => {
    const r = await runScript(handshake);
    expect(r.error).toBeNull();
    expect(r.passed).toBe(true);
  });

  it('reports a wrong expected packet with both forms', async () => {
    const r = await runScript(handshake.replace('> S. 0:0(0) ack 1 <mss 1460,nop,wscale 7>', '> S. 0:0(0) ack 1 <mss 1000,nop,wscale 7>'));
    expect(r.passed).toBe(false);
    expect(r.error).toMatch(/^line 8: expected > S\. 0:0\(0\) ack 1 <mss 1000,nop,wscale 7> got > S\. 0:0\(0\) ack 1 win \d+ <mss 1460,nop,wscale 7>/);
  });

  it('compares return values and errno', async () => {
    const r = await runScript(`${handshake}   +0 read(4, ..., 10) = -1 EAGAIN (Resource temporarily unavailable)\n`);
    expect(r.passed).toBe(false);
    expect(r.error).toMatch(/line 11: read\(\) blocked/);
    const ok = await runScript(`${handshake}   +0 fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n   +0 read(4, ..., 10) = -1 EAGAIN (Resource temporarily unavailable)\n`);
    expect(ok.error).toBeNull();
  });

  it('an unexpected packet is taken by the next expected one and reported there, as packetdrill', async () => {
    const r = await runScript(`${handshake}   +0 write(4, ..., 10) = 10\n  +.1 close(4) = 0\n   +0 > F. 11:11(0) ack 1\n`);
    expect(r.passed).toBe(false);
    expect(r.error).toMatch(/^line 13: expected > F\. 11:11\(0\) ack 1 got > P\. 1:11\(10\) ack 1/);
  });

  it('maps the fd numbers a script expects onto the ones the stack returns, as packetdrill', async () => {
    const r = await runScript(handshake.replaceAll('= 3', '= 7').replaceAll('(3,', '(7,').replace('accept(7, ..., ...) = 4', 'accept(7, ..., ...) = 9'));
    expect(r.error).toBeNull();
  });

  it('does not check packets after the last expected one, as packetdrill', async () => {
    const r = await runScript(`${handshake}   +0 write(4, ..., 10) = 10\n`);
    expect(r.error).toBeNull();
  });
});

describe('sysctl mapping', () => {
  const setting = (name: string, value: string) => ({ kind: 'setting' as const, name, value, line: 1, file: null });
  it('net.ipv4.tcp_recovery bit 0 (TCP_RACK_LOSS_DETECTION) switches RACK', () => {
    expect(tcpConfigFromSysctls([setting('net.ipv4.tcp_recovery', '1')]).config.rack).toBe(true);
    expect(tcpConfigFromSysctls([setting('net.ipv4.tcp_recovery', '0')]).config.rack).toBe(false);
    expect(tcpConfigFromSysctls([setting('net.ipv4.tcp_recovery', '4')]).config.rack).toBe(false);
    expect(tcpConfigFromSysctls([setting('net.ipv4.tcp_recovery', '5')]).config.rack).toBe(true);
  });
  it('net.ipv4.tcp_min_tso_segs sets the fewest segments per transmitted skb (1..255, as Linux)', () => {
    expect(tcpConfigFromSysctls([setting('net.ipv4.tcp_min_tso_segs', '10')]).config.minTsoSegs).toBe(10);
    const bad = tcpConfigFromSysctls([setting('net.ipv4.tcp_min_tso_segs', '0')]);
    expect(bad.config.minTsoSegs).toBeUndefined();
    expect(bad.ignored).toEqual(['net.ipv4.tcp_min_tso_segs=0 (out of range)']);
  });
});
