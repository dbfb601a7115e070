import { describe, expect, it } from 'vitest';
import { bumpRouteGeneration } from '../iface/route-generation.js';
import type { Ipv4Address } from '../wire/address.js';
import { directedBroadcastCache } from './install-tcp.js';

/** An interface whose directed broadcasts are a set the test changes, counting the questions. */
function fakeIface(broadcasts: Ipv4Address[], isLoopback = false) {
  const f = {
    isLoopback,
    asked: 0,
    broadcasts,
    isBroadcast(a: Ipv4Address): boolean {
      f.asked++;
      return f.broadcasts.includes(a);
    },
  };
  return f;
}

describe('directedBroadcastCache', () => {
  const A = 0x0a000002; // 10.0.0.2
  const B = 0x0a0000ff; // 10.0.0.255

  it('answers as isDirectedBroadcast, asking the interfaces again only for a new address', () => {
    const eth = fakeIface([B]);
    const isBroadcast = directedBroadcastCache([eth]);
    expect(isBroadcast(A)).toBe(false);
    expect(isBroadcast(A)).toBe(false);
    expect(eth.asked).toBe(1);
    expect(isBroadcast(B)).toBe(true);
    expect(isBroadcast(B)).toBe(true);
    expect(eth.asked).toBe(2);
    expect(isBroadcast(A)).toBe(false);
    expect(eth.asked).toBe(3);
  });

  it('never answers for the loopback interface', () => {
    const lo = fakeIface([A], true);
    expect(directedBroadcastCache([lo])(A)).toBe(false);
  });

  it('asks again after an address change (route generation) or an interface added or removed', () => {
    const eth = fakeIface([]);
    const ifaces = [eth];
    const isBroadcast = directedBroadcastCache(ifaces);
    expect(isBroadcast(B)).toBe(false);
    // An address change bumps the generation (Interface.addAddress).
    eth.broadcasts = [B];
    bumpRouteGeneration();
    expect(isBroadcast(B)).toBe(true);
    // A new interface, no generation bump: the count tells.
    const eth1 = fakeIface([A]);
    ifaces.push(eth1);
    expect(isBroadcast(A)).toBe(true);
    ifaces.pop();
    expect(isBroadcast(A)).toBe(false);
  });
});
