/**
 * Issue 9: on a SystemClock every reading is a performance.now() call (about
 * 45 ns here) and a heap-allocated number (epoch microseconds are beyond
 * V8's small integers): four a request/response round trip were 3% of
 * tcp-rr's profile. Each is the only reading of its unit of work: one per
 * run of frames a stack receives (Stack #onBatchFrame, shared by the run)
 * and one per write (TCP's kick); the memory switch delivers due-now frames
 * with an earlier reading, and re-arming the stack's timer reuses the
 * reading of the work that moved the deadline. This pins that count, so a
 * new reading on the per-frame or per-call path shows up here.
 */
import { describe, expect, it } from 'vitest';
import { MemoryNetwork } from '../link/memory.js';
import { constants as C } from '../syscall/constants.js';
import type { Instant } from '../time/instant.js';
import { SystemClock } from '../time/system-clock.js';
import { Stack } from './stack.js';

/** Real time, counting the readings (a SystemClock in type, so the stacks and the switch take their real-time paths). */
class CountingClock extends SystemClock {
  reads = 0;
  override now(): Instant {
    this.reads++;
    return super.now();
  }
}

describe('clock readings on a real-time clock', () => {
  it('a 1-byte request/response round trip reads the clock four times: once per write, once per run of frames received', async () => {
    const clock = new CountingClock({ keepAlive: true });
    const network = new MemoryNetwork({ clock, seed: 1, mtu: 1500, trusted: true });
    const [a, b] = [1, 2].map((i) => {
      const s = new Stack({ clock, seed: 1000 + i });
      s.addInterface(network.attach({ name: `h${i}` }), { address: `10.0.0.${i}/24` });
      return s;
    }) as [Stack, Stack];
    const client = a.sys;
    const server = b.sys;
    try {
      const lfd = server.socket(C.AF_INET, C.SOCK_STREAM, 0);
      server.bind(lfd, { address: C.INADDR_ANY, port: 5001 });
      server.listen(lfd, 8);
      const serving = (async () => {
        const { fd } = await server.accept(lfd);
        server.setsockopt(fd, C.IPPROTO_TCP, C.TCP_NODELAY, 1);
        const buf = new Uint8Array(1);
        for (;;) {
          if ((await server.read(fd, buf)) === 0) break;
          await server.write(fd, buf);
        }
        server.close(fd);
      })();
      const fd = client.socket(C.AF_INET, C.SOCK_STREAM, 0);
      client.setsockopt(fd, C.IPPROTO_TCP, C.TCP_NODELAY, 1);
      await client.connect(fd, { address: '10.0.0.2', port: 5001 });
      const req = new Uint8Array([0x2a]);
      const resp = new Uint8Array(1);
      const exchange = async (): Promise<void> => {
        await client.write(fd, req);
        expect(await client.read(fd, resp)).toBe(1);
        expect(resp[0]).toBe(0x2a);
      };
      // Past the handshake's and the first exchanges' one-off work.
      for (let i = 0; i < 20; i++) await exchange();
      const n = 300;
      const before = clock.reads;
      for (let i = 0; i < n; i++) await exchange();
      const reads = clock.reads - before;
      // Two writes and two runs of one frame per exchange. The slack is for
      // the stacks' own timers (a lazily armed RTO firing early, a due-now
      // wake-up): real time, so how many fire is not exact; a reading more
      // per frame or per call would add n or 2n.
      expect(reads).toBeGreaterThanOrEqual(4 * n);
      expect(reads).toBeLessThanOrEqual(4 * n + 40);
      client.close(fd);
      await serving;
      server.close(lfd);
    } finally {
      a.close();
      b.close();
    }
  });
});
