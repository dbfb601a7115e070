/**
 * getsockopt(SO_SNDBUF / SO_RCVBUF) on a connected TCP socket reports the
 * size the connection uses now, as Linux reports sk_sndbuf / sk_rcvbuf:
 * auto-tuning grows them (tcp_sndbuf_expand, tcp_rcv_space_adjust) unless
 * setsockopt fixed the size, which then reads back doubled.
 */
import { describe, expect, it } from 'vitest';
import { constants as C } from '../syscall/constants.js';
import { connected, pair, sleep } from './socket-pair.fixtures.js';

const opt = (sys: { getsockopt(fd: number, level: number, name: number): unknown }, fd: number, name: number): number =>
  sys.getsockopt(fd, C.SOL_SOCKET, name) as number;

describe('SO_SNDBUF / SO_RCVBUF read back from a connection', () => {
  it('report the auto-tuned sizes after a bulk transfer, larger than before connect', async () => {
    const { net, a, b } = pair();
    const probe = b.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    const sndBefore = opt(b.sys, probe, C.SO_SNDBUF);
    const rcvBefore = opt(a.sys, a.sys.socket(C.AF_INET, C.SOCK_STREAM, 0), C.SO_RCVBUF);
    const { srv, cli } = await connected(a, b);
    const total = 8 << 20;
    const chunk = new Uint8Array(64 * 1024);
    const reading = (async () => {
      const buf = new Uint8Array(64 * 1024);
      let got = 0;
      while (got < total) got += await a.sys.read(srv, buf);
      return got;
    })();
    for (let sent = 0; sent < total; ) sent += await b.sys.write(cli, chunk);
    expect(await reading).toBe(total);
    await sleep(net, 50);
    const snd = opt(b.sys, cli, C.SO_SNDBUF);
    const rcv = opt(a.sys, srv, C.SO_RCVBUF);
    // Before this was read from the connection, both stayed at the unconnected defaults.
    expect(snd).toBeGreaterThan(sndBefore);
    expect(rcv).toBeGreaterThan(rcvBefore);
  });

  it('a size set by setsockopt stays as set (doubled), transfer or not', async () => {
    const { a, b } = pair();
    const { srv, cli } = await connected(a, b, 7000, (lfd) => {
      a.sys.setsockopt(lfd, C.SOL_SOCKET, C.SO_RCVBUF, 50_000);
    });
    b.sys.setsockopt(cli, C.SOL_SOCKET, C.SO_SNDBUF, 40_000);
    const chunk = new Uint8Array(64 * 1024);
    const reading = (async () => {
      const buf = new Uint8Array(64 * 1024);
      let got = 0;
      while (got < 2 << 20) got += await a.sys.read(srv, buf);
    })();
    for (let sent = 0; sent < 2 << 20; ) sent += await b.sys.write(cli, chunk);
    await reading;
    expect(opt(b.sys, cli, C.SO_SNDBUF)).toBe(80_000);
    expect(opt(a.sys, srv, C.SO_RCVBUF)).toBe(100_000);
  });
});
