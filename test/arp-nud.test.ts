/**
 * ARP robustness (issue 4): a wrong neighbour mapping, as a corrupted ARP
 * packet leaves behind, is re-verified like Linux NUD (STALE -> DELAY ->
 * PROBE -> re-resolve) instead of wedging a connection until it expires.
 */
import { describe, expect, it } from 'vitest';
import { lan } from '../examples/tcp-net.js';
import { constants as C } from '../src/syscall/constants.js';
import { Duration } from '../src/time/duration.js';
import { ipv4, mac } from '../src/wire/address.js';
import { runTransfer } from './helpers/transfer.js';

describe('ARP: wrong mappings are re-verified (Linux NUD)', () => {
  it('a server that learned a corrupted MAC from the client ARP request still completes the handshake within seconds', async () => {
    const net = lan({ impairments: { latency: Duration.fromMillis(1) } });
    const [a, b] = [net.hosts[0]!, net.hosts[1]!];
    const lfd = a.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    a.sys.bind(lfd, { address: '0.0.0.0', port: 80 });
    a.sys.listen(lfd, 4);
    // As if the client's ARP request had arrived with its sender MAC corrupted.
    const cache = a.stack.interfaces.find((i) => !i.isLoopback)!.neighbours!;
    cache.update(net.clock.now(), ipv4('10.0.0.2'), mac('02:de:ad:be:ef:01'), true, false);
    const start = net.clock.now();
    const acc = a.sys.accept(lfd);
    const cli = b.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    await b.sys.connect(cli, { address: '10.0.0.1', port: 80 });
    await acc;
    // DELAY 5 s + 3 unicast probes 1 s apart, then a broadcast request: the
    // SYN-ACK retransmitted after that gets through (well before 60 s).
    expect(net.clock.now() - start).toBeLessThan(Duration.fromSecs(20));
    expect(a.stack.stats.get('arp.out-requests')).toBeGreaterThanOrEqual(4);
    expect(cache.lookup(net.clock.now(), ipv4('10.0.0.2'))).toBe(b.link.mac);
    net.close();
  });

  it('replays transfer seed 2410 (10 % loss, duplication, reordering and corruption), which used to end in ECONNRESET', async () => {
    const r = await runTransfer(2410);
    expect(r.seed).toBe(2410);
  });
});
