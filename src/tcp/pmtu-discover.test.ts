import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { narrowMiddle, receiveOne } from '../stack/narrow-middle.fixtures.js';
import { constants as C } from '../syscall/constants.js';

describe('IP_MTU_DISCOVER on TCP', () => {
  it('IP_PMTUDISC_DONT: segments go without DF, the router fragments them, and the MSS is not lowered', async () => {
    const { r1, sa, sb } = narrowMiddle();
    const data = new Uint8Array(100_000).map((_, i) => (i * 7) & 0xff);
    const receiver = receiveOne(sb, 80, data.length);
    const fd = sa.socket(C.AF_INET, C.SOCK_STREAM, 0);
    sa.setsockopt(fd, C.IPPROTO_IP, C.IP_MTU_DISCOVER, C.IP_PMTUDISC_DONT);
    await sa.connect(fd, { address: '10.0.3.1', port: 80 });
    await sa.write(fd, data);
    sa.shutdown(fd, C.SHUT_WR);
    const got = await receiver;
    expect(createHash('sha256').update(got).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    // DF clear: fragmented on the way, never "fragmentation needed".
    expect(r1.stats.get('ip.frag-oks')).toBeGreaterThan(0);
    expect(r1.stats.get('icmp.out-dest-unreachs')).toBe(0);
    expect(sa.getsockopt(fd, C.IPPROTO_TCP, C.TCP_MAXSEG)).toBe(1460);
    sa.close(fd);
  });

  it('the default (WANT) sets DF: the router answers "fragmentation needed" and the MSS follows the path', async () => {
    const { r1, sa, sb } = narrowMiddle();
    const lfd = sb.socket(C.AF_INET, C.SOCK_STREAM, 0);
    sb.bind(lfd, { address: '0.0.0.0', port: 80 });
    sb.listen(lfd, 4);
    const acc = sb.accept(lfd);
    const fd = sa.socket(C.AF_INET, C.SOCK_STREAM, 0);
    expect(sa.getsockopt(fd, C.IPPROTO_IP, C.IP_MTU_DISCOVER)).toBe(C.IP_PMTUDISC_WANT);
    await sa.connect(fd, { address: '10.0.3.1', port: 80 });
    const { fd: child } = await acc;
    await sa.write(fd, new Uint8Array(20_000));
    const buf = new Uint8Array(20_000);
    let at = 0;
    while (at < buf.length) at += await sb.read(child, buf.subarray(at));
    expect(r1.stats.get('ip.frag-oks')).toBe(0);
    expect(r1.stats.get('icmp.out-dest-unreachs')).toBeGreaterThan(0);
    expect(sa.getsockopt(fd, C.IPPROTO_TCP, C.TCP_MAXSEG)).toBe(960);
  });
});
