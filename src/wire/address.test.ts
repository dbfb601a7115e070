import { describe, expect, it } from 'vitest';
import {
  formatIpv4,
  formatMac,
  ipv4,
  ipv4Netmask,
  isIpv4Loopback,
  isIpv4Multicast,
  isMacMulticast,
  mac,
  macHighHalf,
  macLowHalf,
  parseIpv4Address,
  parseMacAddress,
  readMacHalf,
  writeMacHalf,
  readIpv4,
  readMac,
  writeIpv4,
  writeMac,
} from './address.js';

describe('IPv4 addresses', () => {
  it('parses and formats dotted quads', () => {
    expect(parseIpv4Address('10.0.0.1')).toBe(0x0a000001);
    expect(parseIpv4Address('255.255.255.255')).toBe(0xffffffff);
    expect(parseIpv4Address('0.0.0.0')).toBe(0);
    expect(formatIpv4(0xc0a80001)).toBe('192.168.0.1');
    expect(formatIpv4(ipv4('172.16.254.3'))).toBe('172.16.254.3');
  });

  it('rejects what is not a dotted quad', () => {
    for (const s of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', 'a.b.c.d', ' 1.2.3.4', '1.2.3.-4']) {
      expect(parseIpv4Address(s), s).toBeUndefined();
    }
    expect(() => ipv4('1.2.3')).toThrow(TypeError);
  });

  it('reads and writes big-endian at any offset', () => {
    const b = new Uint8Array(7);
    writeIpv4(b, 3, ipv4('192.0.2.77'));
    expect([...b.subarray(3)]).toEqual([192, 0, 2, 77]);
    expect(readIpv4(b, 3)).toBe(ipv4('192.0.2.77'));
  });

  it('classifies and masks', () => {
    expect(isIpv4Multicast(ipv4('224.0.0.1'))).toBe(true);
    expect(isIpv4Multicast(ipv4('239.255.255.255'))).toBe(true);
    expect(isIpv4Multicast(ipv4('240.0.0.1'))).toBe(false);
    expect(isIpv4Loopback(ipv4('127.3.2.1'))).toBe(true);
    expect(ipv4Netmask(24)).toBe(0xffffff00);
    expect(ipv4Netmask(0)).toBe(0);
    expect(ipv4Netmask(32)).toBe(0xffffffff);
  });
});

describe('MAC addresses', () => {
  it('parses, formats, reads and writes 48-bit values exactly', () => {
    const m = mac('02:00:5e:10:ff:01');
    expect(m).toBe(0x02005e10ff01);
    expect(formatMac(m)).toBe('02:00:5e:10:ff:01');
    expect(formatMac(mac('ff-ff-ff-ff-ff-ff'))).toBe('ff:ff:ff:ff:ff:ff');
    const b = new Uint8Array(8);
    writeMac(b, 1, m);
    expect([...b.subarray(1, 7)]).toEqual([0x02, 0x00, 0x5e, 0x10, 0xff, 0x01]);
    expect(readMac(b, 1)).toBe(m);
    expect(parseMacAddress('02:00:5e:10:ff')).toBeUndefined();
  });

  it('knows the group bit', () => {
    expect(isMacMulticast(mac('01:00:5e:00:00:01'))).toBe(true);
    expect(isMacMulticast(mac('ff:ff:ff:ff:ff:ff'))).toBe(true);
    expect(isMacMulticast(mac('02:00:00:00:00:01'))).toBe(false);
  });

  it('splits a MAC into the 24-bit halves the bytes hold, both ways', () => {
    for (const m of [mac('00:00:00:00:00:00'), mac('02:1a:2b:3c:4d:5e'), mac('ff:ff:ff:ff:ff:fe'), mac('80:00:01:7f:ff:80')]) {
      const b = new Uint8Array(8);
      writeMac(b, 1, m);
      expect(readMacHalf(b, 1)).toBe(macHighHalf(m));
      expect(readMacHalf(b, 4)).toBe(macLowHalf(m));
      const c = new Uint8Array(8);
      writeMacHalf(c, 1, macHighHalf(m));
      writeMacHalf(c, 4, macLowHalf(m));
      expect(c).toEqual(b);
    }
  });
});
