import { describe, expect, it } from 'vitest';
import { ipv4 } from './address.js';
import { fromHex } from './bytes.js';
import { dissect, formatDissection } from './dissect.js';
import { EtherType, emitEthernet } from './ethernet.js';
import { IpProtocol, emitIpv4, ipv4BufferLen, type Ipv4Repr } from './ipv4.js';
import { emitUdp, udpBufferLen } from './udp.js';

const src = ipv4('192.0.2.1');
const dst = ipv4('192.0.2.2');

function udpPacket(fragment?: Partial<Ipv4Repr>): Uint8Array {
  const udp = { srcPort: 1000, dstPort: 53, payload: new TextEncoder().encode('hi') };
  const ub = new Uint8Array(udpBufferLen(udp));
  emitUdp(udp, ub, { src, dst });
  const ip: Ipv4Repr = {
    src, dst, protocol: IpProtocol.Udp, ttl: 64, dscp: 0, ecn: 0, identification: 9,
    dontFragment: false, moreFragments: false, fragmentOffset: 0, options: new Uint8Array(0), payload: ub,
    ...fragment,
  };
  const b = new Uint8Array(ipv4BufferLen(ip));
  emitIpv4(ip, b);
  return b;
}

describe('dissect', () => {
  it('walks Ethernet, IPv4 and UDP', () => {
    const ip = udpPacket();
    const frame = new Uint8Array(14 + ip.length);
    emitEthernet({ dst: 1, src: 2, ethertype: EtherType.Ipv4, payload: ip }, frame);
    const d = dissect(frame, 'ethernet');
    expect(d.error).toBeUndefined();
    expect(d.udp?.dstPort).toBe(53);
    expect(formatDissection(d)).toBe('IP 192.0.2.1:1000 > 192.0.2.2:53 UDP length 2');
  });

  it('starts at IP for raw-IP links and reports the failing layer', () => {
    const ip = udpPacket();
    expect(dissect(ip, 'ip').udp?.srcPort).toBe(1000);
    ip[ip.length - 1]! ^= 0xff; // payload damage: the UDP checksum catches it
    const d = dissect(ip, 'ip');
    expect(d.error).toEqual({ layer: 'udp', reason: 'bad-checksum' });
    expect(dissect(ip, 'ip', { verifyChecksums: false }).udp?.payload.length).toBe(2);
    expect(formatDissection(d)).toContain('[malformed udp: bad-checksum]');
  });

  it('does not parse transport headers of fragments', () => {
    const d = dissect(udpPacket({ moreFragments: true }), 'ip');
    expect(d.ipv4?.moreFragments).toBe(true);
    expect(d.udp).toBeUndefined();
    expect(formatDissection(d)).toContain('frag id 9 offset 0+');
  });

  it('never throws on garbage', () => {
    for (const hex of ['', '00', 'ffffffffffffffffffffffffffff0806', '45']) {
      expect(() => dissect(fromHex(hex), 'ethernet')).not.toThrow();
      expect(() => formatDissection(dissect(fromHex(hex), 'ip'))).not.toThrow();
    }
    expect(dissect(fromHex(''), 'ethernet').error).toEqual({ layer: 'ethernet', reason: 'truncated' });
  });
});
