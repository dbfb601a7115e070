import { describe, expect, it } from 'vitest';
import { MemoryNetwork } from '../src/link/memory.js';
import { Stack } from '../src/stack/stack.js';
import { Duration } from '../src/time/duration.js';
import { Instant } from '../src/time/instant.js';
import { ManualClock } from '../src/time/manual-clock.js';
import { demo, ping } from './ping.js';

async function drive(clock: ManualClock, done: () => boolean, limitMs = 30_000): Promise<void> {
  for (let ms = 0; ms < limitMs && !done(); ms++) {
    clock.advance(Duration.fromMillis(1));
    await new Promise<void>((r) => setTimeout(r, 0));
  }
}

function pair() {
  const clock = new ManualClock();
  const net = new MemoryNetwork({ clock, seed: 5, latency: Duration.fromMillis(1) });
  const a = new Stack({ clock, seed: 1 });
  const b = new Stack({ clock, seed: 2 });
  a.addInterface(net.attach({ name: 'a' }), { address: '10.0.0.1/24' });
  const bLink = net.attach({ name: 'b' });
  b.addInterface(bLink, { address: '10.0.0.2/24' });
  return { clock, a, b, bLink };
}

describe('examples/ping', () => {
  it('runs the demo: RTTs like ping(8), one request lost while the far host is unplugged', async () => {
    expect(await demo()).toEqual([
      'PING 10.0.1.2 (10.0.1.2) 56(84) bytes of data.',
      // The first request waited for two ARP resolutions (ours and the router's): 4 ms more.
      '64 bytes from 10.0.1.2: icmp_seq=1 time=8.000 ms',
      '64 bytes from 10.0.1.2: icmp_seq=2 time=4.000 ms',
      '64 bytes from 10.0.1.2: icmp_seq=4 time=4.000 ms',
      '',
      '--- 10.0.1.2 ping statistics ---',
      '4 packets transmitted, 3 received, 25% packet loss, time 3004ms',
      'rtt min/avg/max/mdev = 4.000/5.333/8.000/1.886 ms',
    ]);
  });

  it('pings with a large (fragmented) payload and closes its socket', async () => {
    const { clock, a } = pair();
    const lines: string[] = [];
    let done = false;
    const p = ping(a.sys, () => Instant.toMillis(clock.now()), '10.0.0.2', { count: 2, size: 4000, intervalMs: 200, print: (l) => lines.push(l) }).finally(
      () => (done = true),
    );
    await drive(clock, () => done);
    const s = await p;
    expect(s).toEqual({ transmitted: 2, received: 2, rtts: [4, 2] });
    expect(lines[1]).toBe('4008 bytes from 10.0.0.2: icmp_seq=1 time=4.000 ms');
    expect(a.stats.get('ip.frag-oks')).toBe(2);
    expect(a.sys.openFds()).toEqual([]);
  });
});

describe('stack.ping({ count, size, timeout })', () => {
  it('reports each RTT, undefined for requests whose reply did not come within the timeout', async () => {
    const { clock, a, bLink } = pair();
    const p = a.ping('10.0.0.2', { count: 3, size: 1000, timeout: Duration.fromMillis(300), interval: Duration.fromMillis(500) });
    // The second request goes out at t=500 ms while b is unplugged.
    clock.setTimer(Instant.fromMillis(400), () => bLink.setEnabled(false));
    clock.setTimer(Instant.fromMillis(900), () => bLink.setEnabled(true));
    let done = false;
    void p.finally(() => (done = true));
    await drive(clock, () => done);
    const r = await p;
    expect(r.sent).toBe(3);
    expect(r.received).toBe(2);
    expect(r.rtts).toEqual([Duration.fromMillis(4), undefined, Duration.fromMillis(2)]);
    expect(Instant.toMillis(clock.now())).toBeLessThanOrEqual(1010);
  });

  it('size 65507 works (fragmented both ways); bad options throw RangeError', async () => {
    const { clock, a, b } = pair();
    const p = a.ping('10.0.0.2', { size: 65507 });
    let done = false;
    void p.finally(() => (done = true));
    await drive(clock, () => done);
    expect((await p).received).toBe(1);
    expect(b.stats.get('ip.reasm-oks')).toBe(1);
    expect(() => a.ping('10.0.0.2', { size: 65508 })).toThrow(RangeError);
    expect(() => a.ping('10.0.0.2', { count: 0 })).toThrow(RangeError);
  });

  it('rejects with ENETUNREACH when there is no route', async () => {
    const { clock, a } = pair();
    const p = a.ping('192.0.2.1');
    p.catch(() => undefined);
    await drive(clock, () => false, 5);
    await expect(p).rejects.toMatchObject({ code: 'ENETUNREACH', syscall: 'sendto' });
  });
});
