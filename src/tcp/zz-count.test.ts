import { it } from 'vitest';
import { MemoryNetwork } from '../link/memory.js';
import { SeededRng } from '../random/rng.js';
import { VirtualClock } from '../sim/virtual-clock.js';
import { Stack } from '../stack/stack.js';
import { tcpBothWays } from '../stack/two-way-exchange.fixtures.js';

it('count subarray per exchange', async () => {
  const clock = new VirtualClock();
  const net = new MemoryNetwork({ clock, seed: 21, mtu: 1500 });
  const a = new Stack({ clock, seed: 1 });
  const b = new Stack({ clock, seed: 2 });
  a.addInterface(net.attach({ name: 'a' }), { address: '10.0.0.1/24' });
  b.addInterface(net.attach({ name: 'b' }), { address: '10.0.0.2/24' });
  const rng = new SeededRng(4);
  const data = new Uint8Array(300_000);
  for (let i = 0; i < data.length; i++) data[i] = rng.nextU32() & 0xff;
  const orig = Uint8Array.prototype.subarray;
  let n = 0;
  Uint8Array.prototype.subarray = function (this: Uint8Array, s?: number, e?: number) { n++; return orig.call(this, s, e); } as typeof orig;
  try {
    await tcpBothWays(a, b, data, 1000);
  } finally {
    Uint8Array.prototype.subarray = orig;
  }
  const sa = a.stats.snapshot();
  console.log('SUBARRAY', n, 'segs in', (sa['tcp.in-segs'] ?? 0) + (b.stats.snapshot()['tcp.in-segs'] ?? 0));
  a.close(); b.close();
}, 60_000);
