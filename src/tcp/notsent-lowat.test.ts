/**
 * TCP_NOTSENT_LOWAT (Linux 3.12+): a bound on the bytes queued but not yet
 * transmitted. A writer starts no new skb while the unsent bytes reach the
 * mark (tcp_stream_memory_free), and poll says POLLOUT only once they are
 * below half of it, so an application that streams live data keeps little
 * of it waiting in the kernel. Timelines on a manual clock; the write counts
 * and wake-up times are those of the Linux packetdrill scripts
 * gtests/tcp/notsent_lowat (whose PSH placement inside TSO packets we do
 * not model, so the outgoing packets are not checked here).
 */
import { describe, expect, it } from 'vitest';
import { runScript } from '../packetdrill/runner.js';

const setup = (sysctl = ''): string => `
--tolerance_usecs=1000
0 \`sysctl -q net.ipv4.tcp_timestamps=0${sysctl}\`
    0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
   +0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
   +0 bind(3, ..., ...) = 0
   +0 listen(3, 1) = 0
   +0 < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>
   +0 > S. 0:0(0) ack 1 <...>
 +.01 < . 1:1(0) ack 1 win 257
   +0 accept(3, ..., ...) = 4
`;

/** After the mark is in effect: a 59000-byte write, then POLLOUT only when the ACKs have let the unsent bytes fall under 2000. */
const streaming = `
   +0 fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0
   +0 write(4, ..., 59000) = 26000
   +0 write(4, ..., 1000) = -1 EAGAIN (Resource temporarily unavailable)
   +0 poll([{fd=4, events=POLLOUT, revents=0}], 1, 0) = 0
   +0...0.040 poll([{fd=4, events=POLLOUT, revents=POLLOUT}], 1, 1000) = 1
 +.01 < . 1:1(0) ack 2001 win 257
 +.01 < . 1:1(0) ack 4001 win 257
 +.01 < . 1:1(0) ack 6001 win 257
 +.01 < . 1:1(0) ack 8001 win 257
`;

async function expectPasses(script: string): Promise<void> {
  const r = await runScript(script);
  expect(r.error).toBeNull();
  expect(r.passed).toBe(true);
}

describe('TCP_NOTSENT_LOWAT', () => {
  it('reads back 0 by default and what was set; any int is taken ([0xffffffff] in a script is the int -1)', async () => {
    await expectPasses(`${setup()}
   +0 getsockopt(4, SOL_TCP, TCP_NOTSENT_LOWAT, [0], [4]) = 0
   +0 setsockopt(4, SOL_TCP, TCP_NOTSENT_LOWAT, [4000], 4) = 0
   +0 getsockopt(4, SOL_TCP, TCP_NOTSENT_LOWAT, [4000], [4]) = 0
   +0 setsockopt(4, SOL_TCP, TCP_NOTSENT_LOWAT, [-1], 4) = 0
   +0 getsockopt(4, SOL_TCP, TCP_NOTSENT_LOWAT, [-1], [4]) = 0
   +0 setsockopt(4, SOL_TCP, TCP_NOTSENT_LOWAT, [0xffffffff], 4) = 0
   +0 getsockopt(4, SOL_TCP, TCP_NOTSENT_LOWAT, [0xffffffff], [4]) = 0
`);
  });

  it('a write starts no new skb once the unsent bytes reach the mark; POLLOUT waits for them to fall below half of it', async () => {
    await expectPasses(`${setup()}
   +0 setsockopt(4, SOL_TCP, TCP_NOTSENT_LOWAT, [4000], 4) = 0
${streaming}`);
  });

  it('net.ipv4.tcp_notsent_lowat sets the mark for sockets that set none, and getsockopt still reads 0', async () => {
    await expectPasses(`${setup(' net.ipv4.tcp_notsent_lowat=4000')}
   +0 getsockopt(4, SOL_TCP, TCP_NOTSENT_LOWAT, [0], [4]) = 0
${streaming}`);
  });

  it('without a mark the same write takes what SO_SNDBUF allows (the timeline above fails)', async () => {
    // Linux's default (no limit): the write fills SO_SNDBUF.
    const r = await runScript(`${setup()}${streaming}`);
    expect(r.passed).toBe(false);
    expect(r.error).toBe('line 14: expected write(4, ..., 59000) = 26000 returning 26000 got 58000');
  });

  it('setting the mark on a live connection wakes a poller that the new mark lets through', async () => {
    // With the mark at 4000, 16000 unsent bytes keep poll waiting; setting
    // it back to 0 (the sysctl's: no limit) leaves SO_SNDBUF to decide, which
    // 26000 queued bytes pass, so the poller wakes then and not at an ACK.
    await expectPasses(`${setup()}
   +0 setsockopt(4, SOL_TCP, TCP_NOTSENT_LOWAT, [4000], 4) = 0
   +0 fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0
   +0 write(4, ..., 59000) = 26000
   +0...0.010 poll([{fd=4, events=POLLOUT, revents=POLLOUT}], 1, 1000) = 1
 +.01 setsockopt(4, SOL_TCP, TCP_NOTSENT_LOWAT, [0], 4) = 0
`);
  });
});
