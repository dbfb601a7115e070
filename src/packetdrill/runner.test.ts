/**
 * Runs the 35 scripts of ../shared/conformance/packetdrill/SUBSET.tsv. The
 * ones that fail today are listed with the reason; the test fails if a
 * listed one starts passing (update the list) or an unlisted one fails.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScriptFile } from '../cli/packetdrill.js';
import { runScript } from './runner.js';

const ROOT = resolve(import.meta.dirname, '../../../shared/conformance/packetdrill');
const SUBSET = resolve(ROOT, 'SUBSET.tsv');
const present = existsSync(SUBSET);

/** path -> why it fails now (runner limitation or stack difference from Linux). */
const EXPECTED_FAILURES: Readonly<Record<string, string>> = {
  'gtests/tcp/blocking/blocking-write.pkt': 'Linux SO_SNDBUF doubling and sndbuf wakeup accounting: write() unblocks at a different time',
  'gtests/tcp/eor/no-coalesce-large.pkt': 'stack sends the first segments before the script expects them (MSG_EOR skb semantics)',
  'gtests/tcp/eor/no-coalesce-retrans.pkt': 'MSG_EOR skb semantics',
  'gtests/tcp/eor/no-coalesce-small.pkt': 'MSG_EOR skb semantics',
  'gtests/tcp/eor/no-coalesce-subsequent.pkt': 'MSG_EOR skb semantics',
  'gtests/tcp/fast_recovery/prr-ss-30pkt-lost-1_4-11_16.pkt': 'stack bug: no PSH on the last segment of a write',
  'gtests/tcp/fast_recovery/prr-ss-30pkt-lost1_4.pkt': 'PRR/RACK recovery differs from Linux',
  'gtests/tcp/fast_recovery/prr-ss-ack-below-snd_una-cubic.pkt': 'PRR sends 2 segments where Linux sends 3',
  'gtests/tcp/fast_retransmit/fr-4pkt-fack-last-byte.pkt': 'no TLP: stack waits for RTO',
  'gtests/tcp/fast_retransmit/fr-4pkt-fack-last-mss.pkt': 'no RACK reorder timer',
  'gtests/tcp/limited_transmit/limited-transmit-no-sack.pkt': 'stack bug: no PSH on the last segment of a write',
  'gtests/tcp/limited_transmit/limited-transmit-sack.pkt': 'stack bug: no PSH on the last segment of a write',
  'gtests/tcp/nagle/sendmsg_msg_more.pkt': 'MSG_MORE flush timer fires 10 ms early',
  'gtests/tcp/nagle/sockopt_cork_nodelay.pkt': 'TCP_CORK + TCP_NODELAY interplay differs from Linux',
  'gtests/tcp/sack/sack-route-refresh-ip-tos.pkt': 'IP_MTU_DISCOVER not supported (ENOPROTOOPT)',
  'gtests/tcp/shutdown/shutdown-rdwr-send-queue-ack-close.pkt': 'stack bug: no PSH on the last segment of a write',
  'gtests/tcp/shutdown/shutdown-rdwr-write-queue-close.pkt': 'no TLP: FIN not sent at 2*RTT',
  'gtests/tcp/syscall_bad_arg/syscall-invalid-buf-ptr.pkt': 'stack ACKs the data at once where Linux delays the ACK',
  'gtests/tcp/ts_recent/invalid_ack.pkt': 'stack ACKs an ACK above SND.NXT; Linux silently drops it',
  'gtests/tcp/user_timeout/user_timeout.pkt': 'RST on user timeout carries seq SND.NXT+1 (FIN counted) where Linux uses SND.NXT',
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
      const r = await runScriptFile(resolve(ROOT, p));
      if (r.passed) passed++;
      const listed = p in EXPECTED_FAILURES;
      if (r.passed && listed) unexpected.push(`${p}: passes now; remove it from EXPECTED_FAILURES`);
      if (!r.passed && !listed) unexpected.push(`${p}: ${r.error ?? 'failed'}`);
    }
    expect(unexpected).toEqual([]);
    expect(passed).toBe(35 - Object.keys(EXPECTED_FAILURES).length);
  }, 120_000);
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

  it('flags an unexpected packet', async () => {
    const r = await runScript(handshake.replace('   +0 > S. 0:0(0) ack 1 <mss 1460,nop,wscale 7>\n', ''));
    expect(r.passed).toBe(false);
    expect(r.error).toMatch(/unexpected packet/);
  });
});
