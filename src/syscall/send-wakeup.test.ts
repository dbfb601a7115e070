/**
 * When a blocked stream writer resumes. Linux (sk_stream_wait_memory) puts a
 * writer that found the send buffer full to sleep; the ACK path wakes it
 * through sk_stream_write_space only once sk_stream_is_writeable holds: free
 * space of at least half what is queued, i.e. a third of the buffer free.
 * A non-blocking send is not gated: it takes whatever room there is
 * (sk_stream_memory_free). Timelines are packetdrill scripts on a manual
 * clock, so the times are exact.
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
  it('a blocked write resumes only when a third of the buffer is free, not at the first freed bytes', async () => {
    // 30000 of 35000 bytes go at once; 5000 wait. ACK 5001 frees 5000 bytes
    // (queued 25000 > 2/3 of 30000): the writer sleeps on. ACK 10001 leaves
    // 20000 queued: writeable, and the last 5000 bytes go in.
    const r = await runScript(`${setup}
   +0...0.2 write(4, ..., 35000) = 35000
  +.1 < . 1:1(0) ack 5001 win 60000
  +.1 < . 1:1(0) ack 10001 win 60000
`);
    expect(r.error).toBeNull();
    expect(r.passed).toBe(true);
  });

  it('the same write is not woken by the first ACK (the script fails when it returns early)', async () => {
    const r = await runScript(`${setup}
   +0...0.1 write(4, ..., 35000) = 35000
  +.1 < . 1:1(0) ack 5001 win 60000
  +.1 < . 1:1(0) ack 10001 win 60000
`);
    expect(r.passed).toBe(false);
    expect(r.error).toMatch(/write\(\)/);
  });

  it('poll reports POLLOUT at the same threshold', async () => {
    const r = await runScript(`${setup}
   +0 send(4, ..., 30000, MSG_DONTWAIT) = 30000
   +0 poll([{fd=4, events=POLLOUT, revents=0}], 1, 0) = 0
  +.1 < . 1:1(0) ack 5001 win 60000
   +0 poll([{fd=4, events=POLLOUT, revents=0}], 1, 0) = 0
  +.1 < . 1:1(0) ack 10001 win 60000
   +0 poll([{fd=4, events=POLLOUT, revents=POLLOUT}], 1, 0) = 1
`);
    expect(r.error).toBeNull();
    expect(r.passed).toBe(true);
  });

  it('a non-blocking send takes whatever room there is (sk_stream_memory_free), as Linux', async () => {
    const r = await runScript(`${setup}
   +0 send(4, ..., 30000, MSG_DONTWAIT) = 30000
   +0 send(4, ..., 1000, MSG_DONTWAIT) = -1 EAGAIN (Resource temporarily unavailable)
  +.1 < . 1:1(0) ack 5001 win 60000
   +0 send(4, ..., 8000, MSG_DONTWAIT) = 5000
`);
    expect(r.error).toBeNull();
    expect(r.passed).toBe(true);
  });
});
