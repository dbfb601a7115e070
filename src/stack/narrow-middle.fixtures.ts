/**
 * Test fixture (excluded from the build as *.fixtures.ts):
 * A -(1500)- R1 -(1000)- R2 -(1500)- B. Both ends announce MSS 1460, so only
 * R1's "fragmentation needed" (RFC 1191) can tell A that its packets do not fit.
 * Shared by the TCP and UDP path-MTU tests.
 */
import { MemoryNetwork } from '../link/memory.js';
import { constants as C } from '../syscall/constants.js';
import type { Syscalls } from '../syscall/syscalls.js';
import { VirtualClock } from '../sim/virtual-clock.js';
import { Duration } from '../time/duration.js';
import { Stack } from './stack.js';

export function narrowMiddle() {
  const clock = new VirtualClock();
  const n1 = new MemoryNetwork({ clock, seed: 1, latency: Duration.fromMillis(2) });
  const n2 = new MemoryNetwork({ clock, seed: 2, latency: Duration.fromMillis(2), mtu: 1000 });
  const n3 = new MemoryNetwork({ clock, seed: 3, latency: Duration.fromMillis(2) });
  const a = new Stack({ clock, seed: 11 });
  const r1 = new Stack({ clock, seed: 12, forwarding: true });
  const r2 = new Stack({ clock, seed: 13, forwarding: true });
  const b = new Stack({ clock, seed: 14 });
  a.addInterface(n1.attach(), { address: '10.0.1.1/24', gateway: '10.0.1.254' });
  r1.addInterface(n1.attach(), { address: '10.0.1.254/24' });
  r1.addInterface(n2.attach(), { address: '10.0.2.1/24', gateway: '10.0.2.2' });
  r2.addInterface(n2.attach(), { address: '10.0.2.2/24', gateway: '10.0.2.1' });
  r2.addInterface(n3.attach(), { address: '10.0.3.254/24' });
  b.addInterface(n3.attach(), { address: '10.0.3.1/24', gateway: '10.0.3.254' });
  r1.addRoute('10.0.3.0/24', { gateway: '10.0.2.2' });
  r2.addRoute('10.0.1.0/24', { gateway: '10.0.2.1' });
  return { a, r1, b, sa: a.sys, sb: b.sys };
}

/**
 * Listens on 0.0.0.0:`port` (backlog 4) and accepts one connection; resolves
 * with everything read from it (at most `size` bytes) once the peer closes.
 */
export function receiveOne(sys: Syscalls, port: number, size: number): Promise<Uint8Array> {
  const lfd = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
  sys.bind(lfd, { address: '0.0.0.0', port });
  sys.listen(lfd, 4);
  return (async () => {
    const { fd } = await sys.accept(lfd);
    const got = new Uint8Array(size);
    let at = 0;
    for (;;) {
      const n = await sys.read(fd, got.subarray(at));
      if (n === 0) break;
      at += n;
    }
    sys.close(fd);
    return got.subarray(0, at);
  })();
}
