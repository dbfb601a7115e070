import { describe, expect, it } from 'vitest';
import { ipv4 } from '../wire/address.js';
import { RouteTable } from './route-table.js';

describe('RouteTable', () => {
  it('picks the longest matching prefix, then the lowest metric', () => {
    const t = new RouteTable<string>();
    t.addRoute({ prefix: 0, prefixLength: 0, gateway: ipv4('10.0.0.254'), iface: 'eth0' });
    t.addRoute({ prefix: ipv4('10.0.0.0'), prefixLength: 24, iface: 'eth0' });
    t.addRoute({ prefix: ipv4('10.0.0.128'), prefixLength: 25, iface: 'eth1' });
    t.addRoute({ prefix: ipv4('192.168.0.0'), prefixLength: 16, iface: 'eth2', metric: 10 });
    t.addRoute({ prefix: ipv4('192.168.0.0'), prefixLength: 16, gateway: ipv4('10.0.0.1'), iface: 'eth0', metric: 5 });
    expect(t.lookup(ipv4('10.0.0.5'))?.iface).toBe('eth0');
    expect(t.lookup(ipv4('10.0.0.200'))?.iface).toBe('eth1');
    expect(t.lookup(ipv4('8.8.8.8'))?.gateway).toBe(ipv4('10.0.0.254'));
    expect(t.lookup(ipv4('192.168.3.4'))?.iface).toBe('eth0');
    expect(t.removeRoute(0, 0, ipv4('10.0.0.254'))).toBe(true);
    expect(t.lookup(ipv4('8.8.8.8'))).toBeUndefined();
    expect(t.removeRoute(0, 0, ipv4('10.0.0.254'))).toBe(false);
  });

  it('masks prefixes, rejects duplicates and bad lengths, removes by interface', () => {
    const t = new RouteTable<string>();
    t.addRoute({ prefix: ipv4('10.1.2.3'), prefixLength: 8, iface: 'a' });
    expect(t.routes()[0]!.prefix).toBe(ipv4('10.0.0.0'));
    expect(() => t.addRoute({ prefix: ipv4('10.9.9.9'), prefixLength: 8, iface: 'b' })).toThrow(RangeError);
    expect(() => t.addRoute({ prefix: 0, prefixLength: 33, iface: 'b' })).toThrow(RangeError);
    t.addRoute({ prefix: ipv4('10.1.2.3'), prefixLength: 32, iface: 'b' });
    expect(t.lookup(ipv4('10.1.2.3'))?.iface).toBe('b');
    expect(t.removeInterface('b')).toBe(1);
    expect(t.lookup(ipv4('10.1.2.3'))?.iface).toBe('a');
  });
});
