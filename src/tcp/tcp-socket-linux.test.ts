/**
 * Linux behaviour of TCP stream sockets beyond the course basics (issue 4):
 * MSG_OOB with and without SO_OOBINLINE (man 7 tcp, tcp_recv_urg),
 * SO_RCVLOWAT (sock_rcvlowat, tcp_poll) and SO_LINGER with a timeout.
 */
import { describe, expect, it } from 'vitest';
import type { Host, Lan } from '../../examples/tcp-net.js';
import { connected, pair, sleep } from './socket-pair.fixtures.js';
import { constants as C } from '../syscall/constants.js';
import { errnoOf } from '../syscall/outcome.fixtures.js';
import { Duration } from '../time/duration.js';

const enc = new TextEncoder();
const dec = new TextDecoder();


async function revents(h: Host, fd: number): Promise<number> {
  const [r] = await h.sys.poll([{ fd, events: C.POLLIN | C.POLLPRI | C.POLLOUT }], 0);
  return r!.revents;
}

async function readStr(h: Host, fd: number, len = 100, flags = 0): Promise<string> {
  const buf = new Uint8Array(len);
  const n = await h.sys.recv(fd, buf, flags);
  return dec.decode(buf.subarray(0, n));
}

/** Client sends "abc", "!" with MSG_OOB, then "def"; the server has all of it after a while. */
async function urgentStream(opts: { inline?: boolean } = {}): Promise<{ net: Lan; a: Host; b: Host; srv: number; cli: number }> {
  const { net, a, b } = pair();
  const { srv, cli } = await connected(a, b, 7000, (lfd) => {
    if (opts.inline === true) a.sys.setsockopt(lfd, C.SOL_SOCKET, C.SO_OOBINLINE, 1);
  });
  b.sys.setsockopt(cli, C.IPPROTO_TCP, C.TCP_NODELAY, 1);
  await b.sys.send(cli, enc.encode('abc'));
  await b.sys.send(cli, enc.encode('!'), C.MSG_OOB);
  await b.sys.send(cli, enc.encode('def'));
  await sleep(net, 100);
  return { net, a, b, srv, cli };
}

describe('MSG_OOB, SO_OOBINLINE off (Linux default)', () => {
  it('the urgent byte leaves the stream: reads stop at the mark, recv(MSG_OOB) returns it once, POLLPRI until then', async () => {
    const { net, a, srv } = await urgentStream();
    expect(a.sys.getsockopt(srv, C.SOL_SOCKET, C.SO_OOBINLINE)).toBe(0);
    expect((await revents(a, srv)) & (C.POLLIN | C.POLLPRI)).toBe(C.POLLIN | C.POLLPRI);
    // The read stops at the urgent mark.
    expect(await readStr(a, srv)).toBe('abc');
    // MSG_PEEK leaves it there.
    expect(await readStr(a, srv, 10, C.MSG_OOB | C.MSG_PEEK)).toBe('!');
    const oob = new Uint8Array(4);
    const r = await a.sys.recvmsg(srv, { iov: [oob] }, C.MSG_OOB);
    expect(r.bytesRead).toBe(1);
    expect(r.flags & C.MSG_OOB).toBe(C.MSG_OOB);
    expect(dec.decode(oob.subarray(0, 1))).toBe('!');
    expect((await revents(a, srv)) & C.POLLPRI).toBe(0);
    // Read once only.
    expect(await errnoOf(a.sys.recv(srv, oob, C.MSG_OOB))).toBe('recv EINVAL');
    // The rest of the stream, without the urgent byte.
    expect(await readStr(a, srv)).toBe('def');
    net.close();
  });

  it('an ordinary read past the mark skips the urgent byte and it is lost: then MSG_OOB is EINVAL', async () => {
    const { net, a, srv } = await urgentStream();
    expect(await readStr(a, srv)).toBe('abc');
    expect(await readStr(a, srv)).toBe('def');
    expect((await revents(a, srv)) & C.POLLPRI).toBe(0);
    expect(await errnoOf(a.sys.recv(srv, new Uint8Array(1), C.MSG_OOB))).toBe('recv EINVAL');
    net.close();
  });

  it('only the last byte of a multi-byte urgent send is out of band; an urgent byte alone does not make the socket readable', async () => {
    const { net, a, b } = pair();
    const { srv, cli } = await connected(a, b);
    await b.sys.send(cli, enc.encode('xyz'), C.MSG_OOB);
    await sleep(net, 100);
    expect(await readStr(a, srv)).toBe('xy');
    // Only the urgent byte is left: POLLPRI, not POLLIN; a non-blocking read is EAGAIN.
    expect((await revents(a, srv)) & (C.POLLIN | C.POLLPRI)).toBe(C.POLLPRI);
    expect(await errnoOf(a.sys.recv(srv, new Uint8Array(8), C.MSG_DONTWAIT | C.MSG_PEEK))).toBe('recv EAGAIN');
    expect(await readStr(a, srv, 8, C.MSG_OOB)).toBe('z');
    b.sys.close(cli);
    expect(await readStr(a, srv)).toBe('');
    net.close();
  });

  it('recv(MSG_OOB) is EINVAL without urgent data and EAGAIN, even when blocking, while the urgent byte is still on its way', async () => {
    const { net, a, b } = pair();
    const { srv, cli } = await connected(a, b, 7000, (lfd) => {
      // A small receive buffer: the urgent pointer arrives long before its byte can.
      a.sys.setsockopt(lfd, C.SOL_SOCKET, C.SO_RCVBUF, 2048);
    });
    expect(await errnoOf(a.sys.recv(srv, new Uint8Array(1), C.MSG_OOB))).toBe('recv EINVAL');
    const big = new Uint8Array(30_000).fill(0x61);
    big[big.length - 1] = 0x21;
    const sending = b.sys.send(cli, big, C.MSG_OOB);
    await sleep(net, 200);
    expect(await errnoOf(a.sys.recv(srv, new Uint8Array(1), C.MSG_OOB))).toBe('recv EAGAIN');
    expect((await revents(a, srv)) & C.POLLPRI).toBe(0);
    // Drain the stream until the urgent byte has arrived.
    let got = 0;
    const buf = new Uint8Array(4096);
    while (((await revents(a, srv)) & C.POLLPRI) === 0) {
      got += await a.sys.read(srv, buf);
      await sleep(net, 10);
    }
    expect(await sending).toBe(30_000);
    expect(await readStr(a, srv, 1, C.MSG_OOB)).toBe('!');
    for (;;) {
      const [r] = await a.sys.poll([{ fd: srv, events: C.POLLIN }], 0);
      if ((r!.revents & C.POLLIN) === 0) break;
      got += await a.sys.read(srv, buf);
    }
    expect(got).toBe(29_999);
    net.close();
  });
});

describe('MSG_OOB with SO_OOBINLINE on', () => {
  it('the urgent byte stays in the stream and MSG_OOB is EINVAL', async () => {
    const { net, a, srv } = await urgentStream({ inline: true });
    expect(a.sys.getsockopt(srv, C.SOL_SOCKET, C.SO_OOBINLINE)).toBe(1);
    // Linux still reports POLLPRI while the urgent byte is unread.
    expect((await revents(a, srv)) & C.POLLPRI).toBe(C.POLLPRI);
    expect(await errnoOf(a.sys.recv(srv, new Uint8Array(1), C.MSG_OOB))).toBe('recv EINVAL');
    // The read stops at the mark, the next one starts with the urgent byte.
    expect(await readStr(a, srv)).toBe('abc');
    expect(await readStr(a, srv)).toBe('!def');
    expect((await revents(a, srv)) & C.POLLPRI).toBe(0);
    net.close();
  });
});

describe('SO_RCVLOWAT', () => {
  it('poll reports POLLIN only from the low-water mark; a non-blocking read returns what is there', async () => {
    const { net, a, b } = pair();
    const { srv, cli } = await connected(a, b);
    a.sys.setsockopt(srv, C.SOL_SOCKET, C.SO_RCVLOWAT, 10);
    expect(a.sys.getsockopt(srv, C.SOL_SOCKET, C.SO_RCVLOWAT)).toBe(10);
    await b.sys.write(cli, enc.encode('1234'));
    await sleep(net, 50);
    expect((await revents(a, srv)) & C.POLLIN).toBe(0);
    expect(await readStr(a, srv, 100, C.MSG_DONTWAIT)).toBe('1234');
    await b.sys.write(cli, enc.encode('5678'));
    await sleep(net, 50);
    a.sys.fcntl(srv, C.F_SETFL, C.O_NONBLOCK);
    expect(await readStr(a, srv)).toBe('5678');
    net.close();
  });

  it('a blocking read waits for min(lowat, len) bytes, or the end of the stream', async () => {
    const { net, a, b } = pair();
    const { srv, cli } = await connected(a, b);
    a.sys.setsockopt(srv, C.SOL_SOCKET, C.SO_RCVLOWAT, 10);
    let done = false;
    const reading = readStr(a, srv).then((s) => {
      done = true;
      return s;
    });
    await b.sys.write(cli, enc.encode('1234'));
    await sleep(net, 50);
    expect(done).toBe(false);
    expect((await revents(a, srv)) & C.POLLIN).toBe(0);
    await b.sys.write(cli, enc.encode('567890'));
    expect(await reading).toBe('1234567890');
    // A buffer shorter than the mark: that many bytes are enough.
    await b.sys.write(cli, enc.encode('abc'));
    expect(await readStr(a, srv, 3)).toBe('abc');
    // End of stream: what is left, then 0.
    const rest = readStr(a, srv);
    await b.sys.write(cli, enc.encode('xy'));
    await sleep(net, 50);
    b.sys.close(cli);
    expect(await rest).toBe('xy');
    expect(await readStr(a, srv)).toBe('');
    net.close();
  });

  it('SO_RCVTIMEO expiring below the mark returns the bytes that are there', async () => {
    const { net, a, b } = pair();
    const { srv, cli } = await connected(a, b);
    a.sys.setsockopt(srv, C.SOL_SOCKET, C.SO_RCVLOWAT, 10);
    a.sys.setsockopt(srv, C.SOL_SOCKET, C.SO_RCVTIMEO, { sec: 0, usec: 200_000 });
    const reading = readStr(a, srv);
    await b.sys.write(cli, enc.encode('1234'));
    expect(await reading).toBe('1234');
    // Nothing at all: EAGAIN as usual.
    expect(await errnoOf(a.sys.recv(srv, new Uint8Array(4)))).toBe('recv EAGAIN');
    net.close();
  });
});

describe('SO_LINGER {1, N > 0}: closeWait', () => {
  it('resolves once the FIN is acknowledged', async () => {
    const { net, a, b } = pair({ impairments: { latency: Duration.fromMillis(20) } });
    const { srv, cli } = await connected(a, b);
    b.sys.setsockopt(cli, C.SOL_SOCKET, C.SO_LINGER, { onoff: 1, linger: 5 });
    await b.sys.write(cli, new Uint8Array(10_000));
    const start = net.clock.now();
    await b.sys.closeWait(cli);
    // One round trip at least; and our FIN is acknowledged: FIN-WAIT-2 (the server has not closed).
    expect(net.clock.now() - start).toBeGreaterThanOrEqual(Duration.fromMillis(40));
    expect(b.tcp.connectionStates()).toEqual(['FIN-WAIT-2']);
    // The descriptor was freed at once.
    expect(await errnoOf(() => b.sys.getsockname(cli))).toBe('getsockname EBADF');
    const buf = new Uint8Array(20_000);
    let got = 0;
    for (let n = await a.sys.read(srv, buf); n > 0; n = await a.sys.read(srv, buf)) got += n;
    expect(got).toBe(10_000);
    net.close();
  });

  it('gives up after the linger time when nothing answers (close still returns 0), the close going on in the background', async () => {
    const { net, a, b } = pair();
    const { cli } = await connected(a, b);
    b.sys.setsockopt(cli, C.SOL_SOCKET, C.SO_LINGER, { onoff: 1, linger: 2 });
    net.net.partition([a.link], [b.link]);
    const start = net.clock.now();
    await b.sys.closeWait(cli);
    expect(net.clock.now() - start).toBe(Duration.fromSecs(2));
    expect(b.tcp.connectionStates()).toEqual(['FIN-WAIT-1']);
    net.net.heal();
    await sleep(net, 10_000);
    expect(b.tcp.connectionStates()).toEqual(['FIN-WAIT-2']);
    net.close();
  });

  it('resolves at once on a non-blocking socket, without SO_LINGER, and rejects EBADF for a bad descriptor', async () => {
    const { net, a, b } = pair();
    const { cli } = await connected(a, b);
    b.sys.setsockopt(cli, C.SOL_SOCKET, C.SO_LINGER, { onoff: 1, linger: 5 });
    b.sys.fcntl(cli, C.F_SETFL, C.O_NONBLOCK);
    net.net.partition([a.link], [b.link]);
    const start = net.clock.now();
    await b.sys.closeWait(cli);
    expect(net.clock.now()).toBe(start);
    const { cli: cli2 } = await (async () => {
      net.net.heal();
      return connected(a, b, 7001);
    })();
    net.net.partition([a.link], [b.link]);
    const t2 = net.clock.now();
    await b.sys.closeWait(cli2);
    expect(net.clock.now()).toBe(t2);
    expect(await errnoOf(b.sys.closeWait(cli2))).toBe('close EBADF');
    net.close();
  });
});
