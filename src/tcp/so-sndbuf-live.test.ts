/**
 * SO_SNDBUF on a connected socket (Linux sock_setsockopt sets sk_sndbuf at
 * once and locks it against auto-tuning): the send buffer of the live
 * connection takes the doubled size. A packetdrill timeline on a manual clock.
 * The counts are Linux's (6.18, cubic, over a tun device): SO_SNDBUF bounds
 * the truesize of the queued skbs, and a write fills the tail skb to
 * size_goal (30000 here) before the bound is looked at (tcp/send-memory.ts).
 */
import { describe, expect, it } from 'vitest';
import { runScript } from '../packetdrill/runner.js';

const setup = `
--tolerance_usecs=1000
0 \`sysctl -q net.ipv4.tcp_timestamps=0\`
    0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
   +0 bind(3, ..., ...) = 0
   +0 listen(3, 1) = 0
   +0 < S 0:0(0) win 60000 <mss 1000,nop,wscale 0>
   +0 > S. 0:0(0) ack 1 <...>
  +.1 < . 1:1(0) ack 1 win 60000
   +0 accept(3, ..., ...) = 4
`;

describe('SO_SNDBUF on a live connection', () => {
  it('limits what a non-blocking send takes at once by the doubled size', async () => {
    // One 30000-byte skb; the initial window (10 segments) goes at once and
    // the unsent rest fills to 30000 again: 40000. Then no new skb fits.
    const r = await runScript(`${setup}
   +0 setsockopt(4, SOL_SOCKET, SO_SNDBUF, [15000], 4) = 0
   +0 getsockopt(4, SOL_SOCKET, SO_SNDBUF, [30000], [4]) = 0
   +0 send(4, ..., 40000, MSG_DONTWAIT) = 40000
   +0 send(4, ..., 1000, MSG_DONTWAIT) = -1 EAGAIN (Resource temporarily unavailable)
`);
    expect(r.error).toBeNull();
    expect(r.passed).toBe(true);
  });

  it('is not auto-tuned afterwards: a long transfer still finds only about 30000 bytes of room', async () => {
    // All acknowledged, cwnd 40: a 30000-byte skb, two segments of it pushed
    // (tcp_push_one), 2000 more join it, then forced_push sends the rest of
    // it and no new skb fits: 32000, as Linux.
    const r = await runScript(`${setup}
   +0 setsockopt(4, SOL_SOCKET, SO_SNDBUF, [15000], 4) = 0
   +0 send(4, ..., 30000, MSG_DONTWAIT) = 30000
  +.1 < . 1:1(0) ack 10001 win 60000
  +.1 < . 1:1(0) ack 30001 win 60000
   +0 send(4, ..., 40000, MSG_DONTWAIT) = 32000
`);
    expect(r.error).toBeNull();
    expect(r.passed).toBe(true);
  });
});
