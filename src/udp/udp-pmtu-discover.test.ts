import { describe, expect, it } from 'vitest';
import { narrowMiddle } from '../stack/narrow-middle.fixtures.js';
import { constants as C } from '../syscall/constants.js';

describe('IP_MTU_DISCOVER on UDP (ip(7))', () => {
  function udpPair() {
    const t = narrowMiddle();
    const rx = t.sb.socket(C.AF_INET, C.SOCK_DGRAM, 0);
    t.sb.bind(rx, { address: '0.0.0.0', port: 53 });
    const tx = t.sa.socket(C.AF_INET, C.SOCK_DGRAM, 0);
    return { ...t, rx, tx };
  }
  const to = { address: '10.0.3.1', port: 53 };

  it('WANT (the default): DF on a datagram that fits; after "fragmentation needed" larger ones are fragmented at the source', async () => {
    const { a, r1, sa, sb, rx, tx } = udpPair();
    const big = new Uint8Array(1400).fill(9);
    const buf = new Uint8Array(2000);
    // The first one has DF and is dropped at the narrow link, which tells us its MTU
    // (by the time a small datagram behind it has arrived).
    await sa.sendto(tx, big, 0, to);
    await sa.sendto(tx, new Uint8Array(10), 0, to);
    expect((await sb.recvfrom(rx, buf)).bytesRead).toBe(10);
    await sa.sendto(tx, big, 0, to);
    const r = await sb.recvfrom(rx, buf);
    expect(r.bytesRead).toBe(1400);
    expect(r1.stats.get('icmp.out-dest-unreachs')).toBe(1);
    expect(r1.stats.get('ip.frag-oks')).toBe(0);
    expect(a.stats.get('ip.frag-oks')).toBe(1);
  });

  it('DONT: no DF, so the router fragments the datagram', async () => {
    const { r1, sa, sb, rx, tx } = udpPair();
    sa.setsockopt(tx, C.IPPROTO_IP, C.IP_MTU_DISCOVER, C.IP_PMTUDISC_DONT);
    await sa.sendto(tx, new Uint8Array(1400), 0, to);
    const r = await sb.recvfrom(rx, new Uint8Array(2000));
    expect(r.bytesRead).toBe(1400);
    expect(r1.stats.get('ip.frag-oks')).toBe(1);
    expect(r1.stats.get('icmp.out-dest-unreachs')).toBe(0);
  });

  it('DO: DF always; a datagram larger than the path MTU fails with EMSGSIZE', async () => {
    const { a, sa, sb, rx, tx } = udpPair();
    sa.setsockopt(tx, C.IPPROTO_IP, C.IP_MTU_DISCOVER, C.IP_PMTUDISC_DO);
    // Larger than the first link: refused at once.
    await expect(sa.sendto(tx, new Uint8Array(1600), 0, to)).rejects.toMatchObject({ code: 'EMSGSIZE' });
    // Fits the first link, not the middle: sent with DF, dropped, and the path MTU learnt...
    await sa.sendto(tx, new Uint8Array(1400), 0, to);
    const small = sb.recvfrom(rx, new Uint8Array(2000));
    await sa.sendto(tx, new Uint8Array(100), 0, to);
    expect((await small).bytesRead).toBe(100);
    expect(a.stats.get('ip.pmtu-updates')).toBeGreaterThan(0);
    // ...after which the same datagram is refused.
    await expect(sa.sendto(tx, new Uint8Array(1400), 0, to)).rejects.toMatchObject({ code: 'EMSGSIZE' });
  });
});
