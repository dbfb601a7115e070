/**
 * When a blocked stream writer resumes. Linux (sk_stream_wait_memory) puts a
 * writer that found the send buffer full to sleep; the ACK path wakes it
 * through sk_stream_write_space only once sk_stream_is_writeable holds: free
 * space of at least half what is queued, i.e. a third of the buffer free.
 * A non-blocking send is not gated: it takes whatever room there is
 * (sk_stream_memory_free). Both count truesize, skb overhead included, and
 * a write fills the unsent tail skb to size_goal (30000 here: half the
 * peer's 60000 window) before the limit is looked at (tcp/send-memory.ts).
 * Timelines are packetdrill scripts on a manual clock, so the times are
 * exact; each was run against Linux 6.18 (cubic, over a tun device) with the
 * same outcome.
 */
import { describe, expect, it } from 'vitest';
import { runScript } from '../packetdrill/runner.js';

// SO_SNDBUF 15000 on the listener: the accepted socket inherits 30000 (Linux
// doubles the request), which fixes the send buffer at 30000 bytes.
const setup = `
--tolerance_usecs=1000
0 \`sysctl -q net.ipv4.tcp_timestamps=0\`
    0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
   +0 setsockopt(3, SOL_SOCKET, SO_SNDBUF, [15000], 4) = 0
   +0 bind(3, ..., ...) = 0
   +0 listen(3, 1) = 0
   +0 < S 0:0(0) win 60000 <mss 1000,nop,wscale 0>
   +0 > S. 0:0(0) ack 1 <...>
  +.1 < . 1:1(0) ack 1 win 60000
   +0 accept(3, ..., ...) = 4
   +0 getsockopt(4, SOL_SOCKET, SO_SNDBUF, [30000], [4]) = 0
`;

describe('blocked writer wake-up (sk_stream_write_space)', () => {
  // write(70000): the first skb (30000) fills, ten segments of it go at once
  // (the initial window), the rest takes 10000 more, and one more skb would
  // pass SO_SNDBUF: 40000 queued, 30000 wait. ACK 10001 frees 10000 bytes but
  // 20000 more go out in 2-segment skbs (tcp_min_tso_segs): no room. ACK 22001
  // leaves 18000 bytes in 9 skbs: under 30000 in truesize (a new skb could
  // start) but not a third free, so the writer sleeps on. ACK 34001 leaves
  // 6000 in 3 skbs: writeable, and the last 30000 bytes go in one skb.
  const acks = `
  +.1 < . 1:1(0) ack 10001 win 60000
  +.1 < . 1:1(0) ack 22001 win 60000
  +.1 < . 1:1(0) ack 34001 win 60000
`;

  it('a blocked write resumes only when a third of the buffer is free, counting skb overhead, not when a new skb would fit', async () => {
    const r = await runScript(`${setup}
   +0...0.3 write(4, ..., 70000) = 70000
${acks}`);
    expect(r.error).toBeNull();
    expect(r.passed).toBe(true);
  });

  it('the same write is not woken by the ACK that leaves it under SO_SNDBUF (the script fails when it returns early)', async () => {
    const r = await runScript(`${setup}
   +0...0.2 write(4, ..., 70000) = 70000
${acks}`);
    expect(r.passed).toBe(false);
    expect(r.error).toMatch(/write\(\)/);
  });

  it('poll reports POLLOUT at the same threshold', async () => {
    const r = await runScript(`${setup}
   +0 send(4, ..., 70000, MSG_DONTWAIT) = 40000
   +0 poll([{fd=4, events=POLLOUT, revents=0}], 1, 0) = 0
  +.1 < . 1:1(0) ack 10001 win 60000
   +0 poll([{fd=4, events=POLLOUT, revents=0}], 1, 0) = 0
  +.1 < . 1:1(0) ack 22001 win 60000
   +0 poll([{fd=4, events=POLLOUT, revents=0}], 1, 0) = 0
  +.1 < . 1:1(0) ack 34001 win 60000
   +0 poll([{fd=4, events=POLLOUT, revents=POLLOUT}], 1, 0) = 1
`);
    expect(r.error).toBeNull();
    expect(r.passed).toBe(true);
  });

  it('a non-blocking send takes what Linux would (sk_stream_memory_free for a new skb, the tail skb up to size_goal regardless)', async () => {
    const r = await runScript(`${setup}
   +0 send(4, ..., 70000, MSG_DONTWAIT) = 40000
   +0 send(4, ..., 1000, MSG_DONTWAIT) = -1 EAGAIN (Resource temporarily unavailable)
  +.1 < . 1:1(0) ack 10001 win 60000
   +0 send(4, ..., 25000, MSG_DONTWAIT) = 20000
   +0 send(4, ..., 1000, MSG_DONTWAIT) = -1 EAGAIN (Resource temporarily unavailable)
`);
    expect(r.error).toBeNull();
    expect(r.passed).toBe(true);
  });

  it('a non-blocking send starts a new skb while poll still says not writeable', async () => {
    const r = await runScript(`${setup}
   +0 send(4, ..., 70000, MSG_DONTWAIT) = 40000
  +.1 < . 1:1(0) ack 10001 win 60000
  +.1 < . 1:1(0) ack 22001 win 60000
   +0 poll([{fd=4, events=POLLOUT, revents=0}], 1, 0) = 0
   +0 send(4, ..., 1000, MSG_DONTWAIT) = 1000
`);
    expect(r.error).toBeNull();
    expect(r.passed).toBe(true);
  });
});
