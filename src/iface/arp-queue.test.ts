/**
 * The queue of packets waiting for an unresolved neighbour is as deep as
 * Linux's (unres_qlen 101): 64 connections opened at once to a host not
 * yet in the ARP cache all complete on their first SYN. With the old depth
 * of 8, 56 SYNs were dropped and waited for the 1 s retransmission.
 */
import { describe, expect, it } from 'vitest';
import { constants as C } from '../syscall/constants.js';
import { pair, sleep } from '../tcp/socket-pair.fixtures.js';

describe('ARP pending queue', () => {
  it('64 connects at once to an unresolved neighbour all complete without a SYN retransmission', async () => {
    const { net, a, b } = pair();
    const lfd = a.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    a.sys.bind(lfd, { address: C.INADDR_ANY, port: 7000 });
    a.sys.listen(lfd, 128);
    let done = 0;
    const fds = Array.from({ length: 64 }, () => b.sys.socket(C.AF_INET, C.SOCK_STREAM, 0));
    for (const fd of fds) {
      void b.sys.connect(fd, { address: a.address, port: 7000 }).then(() => done++);
    }
    // A few round trips of 1 ms each way: far less than the 1 s SYN retransmission timeout.
    await sleep(net, 100);
    expect(done).toBe(64);
    expect(b.stack.stats.get('arp.queue-dropped')).toBe(0);
  });
});
