import { describe, expect, it } from 'vitest';
import { MiniNet } from './udp-mini-net.js';
import { demo, resolve, startNameServer } from './udp-dns.js';

describe('examples/udp-dns', () => {
  it('runs the demo: lookups, a retry after a lost query, NXDOMAIN, ECONNREFUSED, clean stop', async () => {
    expect(await demo()).toEqual([
      // The server was unplugged for 500 ms: the first query waited for ARP, which
      // only succeeded on its retry at 1 s, when SO_RCVTIMEO (1 s) also made the
      // client ask again; both queries were answered and the stale answer skipped.
      'example.test -> 192.0.2.1 (t=1005 ms)',
      'sockstack.test -> 198.51.100.7 (t=1007 ms)',
      'nowhere.test -> NXDOMAIN (t=1009 ms)',
      'port 54 -> ECONNREFUSED',
      'server answered 4 queries',
    ]);
  });

  it('gives up with EAGAIN after the last attempt when every datagram is lost', async () => {
    const net = new MiniNet();
    const s = net.addHost('10.0.0.53/24');
    const c = net.addHost('10.0.0.2/24');
    const server = startNameServer(s.sys, 53, new Map());
    net.drop = () => true;
    const p = resolve(c.sys, { address: '10.0.0.53', port: 53 }, 'x', { timeoutMs: 200, attempts: 4 });
    const settled = p.then(
      () => 'resolved',
      (e: unknown) => (e as { code?: string }).code,
    );
    await net.settle();
    expect(await settled).toBe('EAGAIN');
    expect(net.clock.now()).toBe(800_000);
    expect(net.wire.length).toBe(4);
    server.stop();
    expect(await server.served).toBe(0);
    expect(c.sys.openFds()).toEqual([]);
  });
});
