// Issue 9: the stack parses every received TCP segment into one reused record
// (TcpReprScratch: repr, options list, timestamps option), and every IPv4
// packet into another (Ipv4ReprScratch, with the IpPacketIn around it). Anything that kept
// the record, its options or its payload view past the call would read the
// next segment's fields. With poisonReusedTcpRecords the record holds junk
// between segments, so such code reads NaN ports and sequence numbers, a
// bogus option and 0xa5 bytes instead, and the exchange below (loss and
// reordering, so SACK, RACK, out-of-order queueing and retransmissions all
// run; timestamps on) goes differently: it must stay byte for byte the same.
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryNetwork } from '../link/memory.js';
import { SeededRng } from '../random/rng.js';
import { VirtualClock } from '../sim/virtual-clock.js';
import { Stack } from '../stack/stack.js';
import { TapLink, tcpBothWays } from '../stack/two-way-exchange.fixtures.js';
import { poisonReusedIpv4Records } from '../wire/ipv4.js';
import { poisonReusedTcpRecords } from '../wire/tcp.js';

async function exchange(poison: boolean): Promise<string[]> {
  poisonReusedTcpRecords(poison);
  poisonReusedIpv4Records(poison);
  const clock = new VirtualClock();
  const net = new MemoryNetwork({ clock, seed: 21, mtu: 1500, reorder: 0.05, loss: 0.02, corrupt: 1e-300 });
  const la = new TapLink(net.attach({ name: 'a' }));
  const lb = new TapLink(net.attach({ name: 'b' }));
  const a = new Stack({ clock, seed: 1 });
  const b = new Stack({ clock, seed: 2 });
  a.addInterface(la, { address: '10.0.0.1/24' });
  b.addInterface(lb, { address: '10.0.0.2/24' });
  const rng = new SeededRng(4);
  const data = new Uint8Array(600_000);
  for (let i = 0; i < data.length; i++) data[i] = rng.nextU32() & 0xff;
  try {
    const { client: clientGot, server: serverGot } = await tcpBothWays(a, b, data, 30_000);
    expect(clientGot.length).toBe(data.length);
    expect(serverGot.length).toBe(data.length);
    expect(clientGot.every((x, i) => x === data[i])).toBe(true);
    expect(serverGot.every((x, i) => x === data[i])).toBe(true);
    // SACK and retransmissions really happened (the paths that could keep a record).
    const sa = a.stats.snapshot();
    const sb = b.stats.snapshot();
    expect((sa['tcp.retrans-segs'] ?? 0) + (sb['tcp.retrans-segs'] ?? 0)).toBeGreaterThan(0);
  } finally {
    a.close();
    b.close();
    poisonReusedTcpRecords(false);
    poisonReusedIpv4Records(false);
  }
  return [...la.received, ...lb.received];
}

describe('the reused receive records (TcpReprScratch, Ipv4ReprScratch)', () => {
  afterEach(() => {
    poisonReusedTcpRecords(false);
    poisonReusedIpv4Records(false);
  });

  it('is kept by nobody: poisoning it between segments changes nothing on the wire', async () => {
    const clean = await exchange(false);
    const poisoned = await exchange(true);
    expect(clean.length).toBeGreaterThan(500);
    expect(poisoned).toEqual(clean);
  }, 60_000);
});
