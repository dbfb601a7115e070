import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryNetwork } from '../link/memory.js';
import { VirtualClock } from '../sim/virtual-clock.js';
import { Stack } from '../stack/stack.js';
import { constants as C } from '../syscall/constants.js';
import { Duration } from '../time/duration.js';

/** A -(1500)- R1 -(1000)- R2 -(1500)- B, as in tcp-pmtu.test.ts. */
function narrowMiddle() {
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

describe('IP_MTU_DISCOVER on TCP', () => {
  it('IP_PMTUDISC_DONT: segments go without DF, the router fragments them, and the MSS is not lowered', async () => {
    const { r1, sa, sb } = narrowMiddle();
    const lfd = sb.socket(C.AF_INET, C.SOCK_STREAM, 0);
    sb.bind(lfd, { address: '0.0.0.0', port: 80 });
    sb.listen(lfd, 4);
    const data = new Uint8Array(100_000).map((_, i) => (i * 7) & 0xff);
    const receiver = (async () => {
      const { fd } = await sb.accept(lfd);
      const got = new Uint8Array(data.length);
      let at = 0;
      for (;;) {
        const n = await sb.read(fd, got.subarray(at));
        if (n === 0) break;
        at += n;
      }
      sb.close(fd);
      return got.subarray(0, at);
    })();
    const fd = sa.socket(C.AF_INET, C.SOCK_STREAM, 0);
    sa.setsockopt(fd, C.IPPROTO_IP, C.IP_MTU_DISCOVER, C.IP_PMTUDISC_DONT);
    await sa.connect(fd, { address: '10.0.3.1', port: 80 });
    await sa.write(fd, data);
    sa.shutdown(fd, C.SHUT_WR);
    const got = await receiver;
    expect(createHash('sha256').update(got).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    // DF clear: fragmented on the way, never "fragmentation needed".
    expect(r1.stats.get('ip.frag-oks')).toBeGreaterThan(0);
    expect(r1.stats.get('icmp.out-dest-unreachs')).toBe(0);
    expect(sa.getsockopt(fd, C.IPPROTO_TCP, C.TCP_MAXSEG)).toBe(1460);
    sa.close(fd);
  });

  it('the default (WANT) sets DF: the router answers "fragmentation needed" and the MSS follows the path', async () => {
    const { r1, sa, sb } = narrowMiddle();
    const lfd = sb.socket(C.AF_INET, C.SOCK_STREAM, 0);
    sb.bind(lfd, { address: '0.0.0.0', port: 80 });
    sb.listen(lfd, 4);
    const acc = sb.accept(lfd);
    const fd = sa.socket(C.AF_INET, C.SOCK_STREAM, 0);
    expect(sa.getsockopt(fd, C.IPPROTO_IP, C.IP_MTU_DISCOVER)).toBe(C.IP_PMTUDISC_WANT);
    await sa.connect(fd, { address: '10.0.3.1', port: 80 });
    const { fd: child } = await acc;
    await sa.write(fd, new Uint8Array(20_000));
    const buf = new Uint8Array(20_000);
    let at = 0;
    while (at < buf.length) at += await sb.read(child, buf.subarray(at));
    expect(r1.stats.get('ip.frag-oks')).toBe(0);
    expect(r1.stats.get('icmp.out-dest-unreachs')).toBeGreaterThan(0);
    expect(sa.getsockopt(fd, C.IPPROTO_TCP, C.TCP_MAXSEG)).toBe(960);
  });
});
