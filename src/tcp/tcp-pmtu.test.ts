import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { narrowMiddle, receiveOne } from '../stack/narrow-middle.fixtures.js';
import { constants as C } from '../syscall/constants.js';

describe('path MTU discovery (RFC 1191) through routers', () => {
  it('a transfer survives a narrow middle link: the sender hears "fragmentation needed" and its data still arrives', async () => {
    const { a, r1, sa, sb } = narrowMiddle();
    const data = new Uint8Array(200_000).map((_, i) => (i * 31) & 0xff);
    const receiver = receiveOne(sb, 80, data.length);
    const fd = sa.socket(C.AF_INET, C.SOCK_STREAM, 0);
    await sa.connect(fd, { address: '10.0.3.1', port: 80 });
    expect(sa.getsockopt(fd, C.IPPROTO_TCP, C.TCP_MAXSEG)).toBe(1460);
    await sa.write(fd, data);
    sa.shutdown(fd, C.SHUT_WR);
    const got = await receiver;
    expect(createHash('sha256').update(got).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    expect(r1.stats.get('icmp.out-dest-unreachs')).toBeGreaterThan(0);
    expect(a.stats.get('ip.pmtu-updates')).toBeGreaterThan(0);
    sa.close(fd);

    // A new connection to the same destination starts with the learned path MTU.
    const lfd2 = sb.socket(C.AF_INET, C.SOCK_STREAM, 0);
    sb.bind(lfd2, { address: '0.0.0.0', port: 81 });
    sb.listen(lfd2, 1);
    const acc = sb.accept(lfd2);
    const fd2 = sa.socket(C.AF_INET, C.SOCK_STREAM, 0);
    await sa.connect(fd2, { address: '10.0.3.1', port: 81 });
    await acc;
    expect(sa.getsockopt(fd2, C.IPPROTO_TCP, C.TCP_MAXSEG)).toBe(960);
  });
});
