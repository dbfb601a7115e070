import { describe, expect, it } from 'vitest';
import { lan } from '../../examples/tcp-net.js';
import type { Host } from '../../examples/tcp-net.js';
import { connected, pair, sleep } from './socket-pair.fixtures.js';
import { Errno } from '../errno/errno.js';
import { constants as C } from '../syscall/constants.js';
import { errnoOf } from '../syscall/outcome.fixtures.js';
import type { Syscalls } from '../syscall/syscalls.js';
import { Duration } from '../time/duration.js';
import type { TcpInfoValue } from './tcp-info.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

async function readAll(sys: Syscalls, fd: number): Promise<string> {
  const buf = new Uint8Array(4096);
  let out = '';
  for (;;) {
    const n = await sys.read(fd, buf);
    if (n === 0) return out;
    out += dec.decode(buf.subarray(0, n));
  }
}

/** A listening socket on host `h`. */
function listener(h: Host, port: number, backlog = 5, address: string = C.INADDR_ANY): number {
  const fd = h.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
  h.sys.setsockopt(fd, C.SOL_SOCKET, C.SO_REUSEADDR, 1);
  h.sys.bind(fd, { address, port });
  h.sys.listen(fd, backlog);
  return fd;
}


describe('TCP stream sockets: the course example', () => {
  it('server: socket, SO_REUSEADDR, bind, listen, accept, read, write, shutdown, close; client: socket, connect, write, read, close', async () => {
    const { net, a, b } = pair();
    const server = (async () => {
      const s = a.sys;
      const fd = s.socket(C.AF_INET, C.SOCK_STREAM, 0);
      s.setsockopt(fd, C.SOL_SOCKET, C.SO_REUSEADDR, 1);
      s.bind(fd, { address: C.INADDR_ANY, port: 8080 });
      s.listen(fd, 5);
      expect(s.getsockopt(fd, C.SOL_SOCKET, C.SO_ACCEPTCONN)).toBe(1);
      const { fd: conn, address } = await s.accept(fd);
      expect(address.address).toBe('10.0.0.2');
      expect(s.getsockname(conn)).toEqual({ address: '10.0.0.1', port: 8080 });
      const buf = new Uint8Array(100);
      const n = await s.read(conn, buf);
      const msg = dec.decode(buf.subarray(0, n));
      await s.write(conn, enc.encode(`echo: ${msg}`));
      s.shutdown(conn, C.SHUT_WR);
      expect(await s.read(conn, buf)).toBe(0);
      s.close(conn);
      s.close(fd);
      return msg;
    })();
    const client = (async () => {
      const s = b.sys;
      const fd = s.socket(C.AF_INET, C.SOCK_STREAM, 0);
      expect(fd).toBe(3);
      await s.connect(fd, { address: '10.0.0.1', port: 8080 });
      expect(s.getpeername(fd)).toEqual({ address: '10.0.0.1', port: 8080 });
      const name = s.getsockname(fd);
      expect(name.address).toBe('10.0.0.2');
      expect(name.port).toBeGreaterThanOrEqual(32768);
      await s.write(fd, enc.encode('hello'));
      const reply = await readAll(s, fd);
      s.close(fd);
      return reply;
    })();
    expect(await server).toBe('hello');
    expect(await client).toBe('echo: hello');
    expect(b.stack.stats.get('tcp.active-opens')).toBe(1);
    expect(a.stack.stats.get('tcp.passive-opens')).toBe(1);
    expect(a.stack.stats.get('tcp.out-rsts')).toBe(0);
    // The server closed first: its side lingers in TIME-WAIT for 2 MSL, then is freed.
    expect(a.tcp.connectionStates()).toEqual(['TIME-WAIT']);
    await sleep(net, 61_000);
    expect(a.tcp.connectionCount).toBe(0);
    expect(b.tcp.connectionCount).toBe(0);
    net.close();
  });

  it('runs over the loopback interface (127.0.0.1) of one stack', async () => {
    const net = lan({ hosts: 1 });
    const h = net.hosts[0]!;
    const lfd = listener(h, 9000, 5, '127.0.0.1');
    const cli = h.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    const acc = h.sys.accept(lfd);
    await h.sys.connect(cli, { address: '127.0.0.1', port: 9000 });
    const { fd: srv, address } = await acc;
    expect(address.address).toBe('127.0.0.1');
    // Loopback's 64 KiB MTU gives the largest MSS the option can carry, less the IPv4 and TCP headers.
    expect(h.sys.getsockopt(cli, C.IPPROTO_TCP, C.TCP_MAXSEG)).toBe(65495);
    const big = new Uint8Array(200_000).map((_, i) => i % 251);
    const w = h.sys.write(cli, big);
    const got = new Uint8Array(big.length);
    let at = 0;
    while (at < big.length) at += await h.sys.read(srv, got.subarray(at));
    expect(await w).toBe(big.length);
    expect(got).toEqual(big);
    h.sys.close(cli);
    expect(await h.sys.read(srv, got)).toBe(0);
    h.sys.close(srv);
    h.sys.close(lfd);
    net.close();
  });
});

describe('non-blocking sockets and poll', () => {
  it('EAGAIN on accept and read, EINPROGRESS then POLLOUT and SO_ERROR 0', async () => {
    const { net, a, b } = pair();
    const lfd = a.sys.socket(C.AF_INET, C.SOCK_STREAM | C.SOCK_NONBLOCK, 0);
    a.sys.bind(lfd, { address: '0.0.0.0', port: 80 });
    a.sys.listen(lfd, 1);
    expect(await errnoOf(a.sys.accept(lfd))).toBe('accept EAGAIN');
    const cli = b.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    b.sys.fcntl(cli, C.F_SETFL, b.sys.fcntl(cli, C.F_GETFL) | C.O_NONBLOCK);
    expect(await errnoOf(b.sys.connect(cli, { address: '10.0.0.1', port: 80 }))).toBe('connect EINPROGRESS');
    expect(await errnoOf(b.sys.connect(cli, { address: '10.0.0.1', port: 80 }))).toBe('connect EALREADY');
    const [p] = await b.sys.poll([{ fd: cli, events: C.POLLOUT }], -1);
    expect(p!.revents).toBe(C.POLLOUT);
    expect(b.sys.getsockopt(cli, C.SOL_SOCKET, C.SO_ERROR)).toBe(0);
    expect(await errnoOf(b.sys.connect(cli, { address: '10.0.0.1', port: 80 }))).toBe('connect EISCONN');
    const [lp] = await a.sys.poll([{ fd: lfd, events: C.POLLIN }], 1000);
    expect(lp!.revents).toBe(C.POLLIN);
    const { fd: srv } = await a.sys.accept(lfd, C.SOCK_NONBLOCK);
    expect(await errnoOf(a.sys.read(srv, new Uint8Array(10)))).toBe('read EAGAIN');
    expect(await b.sys.write(cli, enc.encode('ping'))).toBe(4);
    expect((await a.sys.poll([{ fd: srv, events: C.POLLIN }], 1000))[0]!.revents).toBe(C.POLLIN);
    expect((await a.sys.poll([{ fd: srv, events: C.POLLIN | C.POLLOUT }], 0))[0]!.revents).toBe(C.POLLIN | C.POLLOUT);
    const buf = new Uint8Array(10);
    expect(await a.sys.read(srv, buf)).toBe(4);
    // Fill the peer's window and our send buffer: a non-blocking write then takes what fits, then EAGAIN.
    const chunk = new Uint8Array(1 << 20);
    const first = await b.sys.write(cli, chunk);
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(chunk.length);
    expect(await errnoOf(b.sys.write(cli, chunk))).toBe('write EAGAIN');
    net.close();
  });

  it('reports readiness like Linux tcp_poll', async () => {
    const { net, a, b } = pair();
    const fresh = b.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    const all = C.POLLIN | C.POLLOUT | C.POLLRDHUP;
    // A socket that never connected: POLLOUT | POLLHUP (Linux: state CLOSE).
    expect((await b.sys.poll([{ fd: fresh, events: all }], 0))[0]!.revents).toBe(C.POLLOUT | C.POLLHUP);
    const { srv, cli } = await connected(a, b);
    expect((await b.sys.poll([{ fd: cli, events: all }], 0))[0]!.revents).toBe(C.POLLOUT);
    b.sys.shutdown(cli, C.SHUT_WR);
    await sleep(net, 10);
    // The server sees the FIN: readable (EOF) and POLLRDHUP.
    expect((await a.sys.poll([{ fd: srv, events: all }], 0))[0]!.revents).toBe(C.POLLIN | C.POLLOUT | C.POLLRDHUP);
    a.sys.shutdown(srv, C.SHUT_WR);
    await sleep(net, 10);
    // Both directions done: POLLHUP too.
    expect((await a.sys.poll([{ fd: srv, events: all }], 0))[0]!.revents).toBe(C.POLLIN | C.POLLOUT | C.POLLRDHUP | C.POLLHUP);
    expect((await b.sys.poll([{ fd: cli, events: all }], 0))[0]!.revents & C.POLLHUP).toBe(C.POLLHUP);
    net.close();
  });

  it('poll times out in virtual time with revents 0', async () => {
    const { net, a, b } = pair();
    const { srv } = await connected(a, b);
    const t0 = net.clock.now();
    const r = await a.sys.poll([{ fd: srv, events: C.POLLIN }], 1500);
    expect(r[0]!.revents).toBe(0);
    expect(net.clock.now() - t0).toBe(1_500_000);
    net.close();
  });
});

describe('half-close', () => {
  it('client shuts down writing, server still answers (and the other way round)', async () => {
    const { net, a, b } = pair();
    const { srv, cli } = await connected(a, b);
    await b.sys.write(cli, enc.encode('request'));
    b.sys.shutdown(cli, C.SHUT_WR);
    expect(await errnoOf(b.sys.write(cli, enc.encode('x')))).toBe('write EPIPE');
    expect(await readAll(a.sys, srv)).toBe('request');
    await a.sys.write(srv, enc.encode('response 1;'));
    await a.sys.write(srv, enc.encode('response 2'));
    a.sys.shutdown(srv, C.SHUT_WR);
    expect(await readAll(b.sys, cli)).toBe('response 1;response 2');
    b.sys.close(cli);
    a.sys.close(srv);
    await sleep(net, 200);
    expect(a.stack.stats.get('tcp.out-rsts') + b.stack.stats.get('tcp.out-rsts')).toBe(0);

    // Server-first half close.
    const p2 = await connected(a, b, 7001);
    a.sys.shutdown(p2.srv, C.SHUT_WR);
    expect(await b.sys.read(p2.cli, new Uint8Array(8))).toBe(0);
    await b.sys.write(p2.cli, enc.encode('late'));
    expect(dec.decode(new Uint8Array(await readN(a.sys, p2.srv, 4)))).toBe('late');
    net.close();
  });

  it('SHUT_RD makes reads return end of file at once', async () => {
    const { net, a, b } = pair();
    const { srv } = await connected(a, b);
    a.sys.shutdown(srv, C.SHUT_RD);
    expect(await a.sys.read(srv, new Uint8Array(4))).toBe(0);
    net.close();
  });
});

async function readN(sys: Syscalls, fd: number, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  const got = await sys.recv(fd, out, C.MSG_WAITALL);
  return out.subarray(0, got);
}

describe('resets', () => {
  it('SO_LINGER {1, 0}: close sends RST; the peer reads ECONNRESET once, then EOF, and writes fail with EPIPE', async () => {
    const { net, a, b } = pair();
    const { srv, cli } = await connected(a, b);
    b.sys.setsockopt(cli, C.SOL_SOCKET, C.SO_LINGER, { onoff: 1, linger: 0 });
    expect(b.sys.getsockopt(cli, C.SOL_SOCKET, C.SO_LINGER)).toEqual({ onoff: 1, linger: 0 });
    b.sys.close(cli);
    await sleep(net, 10);
    expect(b.stack.stats.get('tcp.out-rsts')).toBe(1);
    expect(b.tcp.connectionCount).toBe(0); // no TIME-WAIT after an abort
    const [p] = await a.sys.poll([{ fd: srv, events: C.POLLIN | C.POLLOUT }], 0);
    expect(p!.revents).toBe(C.POLLIN | C.POLLOUT | C.POLLERR | C.POLLHUP);
    expect(await errnoOf(a.sys.read(srv, new Uint8Array(4)))).toBe('read ECONNRESET');
    expect(await a.sys.read(srv, new Uint8Array(4))).toBe(0);
    expect(await errnoOf(a.sys.write(srv, enc.encode('x')))).toBe('write EPIPE');
    net.close();
  });

  it('close with unread data resets the connection (RFC 2525 2.17); the writer sees ECONNRESET then EPIPE', async () => {
    const { net, a, b } = pair();
    const { srv, cli } = await connected(a, b);
    await b.sys.write(cli, enc.encode('unread'));
    await sleep(net, 10);
    a.sys.close(srv);
    await sleep(net, 10);
    expect(a.stack.stats.get('tcp.out-rsts')).toBe(1);
    expect(await errnoOf(b.sys.write(cli, enc.encode('more')))).toBe('write ECONNRESET');
    expect(await errnoOf(b.sys.write(cli, enc.encode('more')))).toBe('write EPIPE');
    net.close();
  });

  it('writing to a peer that closed: data draws a RST, the next write fails with EPIPE (Linux: reset in CLOSE-WAIT)', async () => {
    const { net, a, b } = pair();
    const { srv, cli } = await connected(a, b);
    a.sys.close(srv);
    await sleep(net, 10);
    expect(await b.sys.write(cli, enc.encode('into the void'))).toBe(13);
    await sleep(net, 10);
    expect(await errnoOf(b.sys.write(cli, enc.encode('again')))).toBe('write EPIPE');
    expect(await b.sys.read(cli, new Uint8Array(4))).toBe(0);
    net.close();
  });
});

describe('connect failures', () => {
  it('ECONNREFUSED when nobody listens (blocking and non-blocking)', async () => {
    const { net, a, b } = pair();
    void a;
    const fd = b.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    expect(await errnoOf(b.sys.connect(fd, { address: '10.0.0.1', port: 1 }))).toBe('connect ECONNREFUSED');
    // Linux tcp_done shuts both directions: reading a refused socket is end of file.
    expect(await b.sys.read(fd, new Uint8Array(1))).toBe(0);
    // The socket may try again.
    expect(await errnoOf(b.sys.connect(fd, { address: '10.0.0.1', port: 2 }))).toBe('connect ECONNREFUSED');
    const nb = b.sys.socket(C.AF_INET, C.SOCK_STREAM | C.SOCK_NONBLOCK, 0);
    expect(await errnoOf(b.sys.connect(nb, { address: '10.0.0.1', port: 3 }))).toBe('connect EINPROGRESS');
    const [p] = await b.sys.poll([{ fd: nb, events: C.POLLOUT }], -1);
    expect(p!.revents & C.POLLERR).toBe(C.POLLERR);
    expect(b.sys.getsockopt(nb, C.SOL_SOCKET, C.SO_ERROR)).toBe(Errno.ECONNREFUSED);
    expect(b.sys.getsockopt(nb, C.SOL_SOCKET, C.SO_ERROR)).toBe(0);
    expect(a.stack.stats.get('tcp.out-rsts')).toBe(3);
    expect(b.stack.stats.get('tcp.attempt-fails')).toBe(3);
    net.close();
  });

  it('ETIMEDOUT after TCP_SYNCNT retries when the network is partitioned', async () => {
    const { net, a, b } = pair();
    // Learn each other's MAC first, so the SYNs leave (an ARP failure would be EHOSTUNREACH).
    await b.stack.ping('10.0.0.1');
    net.net.partition([a.link], [b.link]);
    const fd = b.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    b.sys.setsockopt(fd, C.IPPROTO_TCP, C.TCP_SYNCNT, 2);
    const t0 = net.clock.now();
    expect(await errnoOf(b.sys.connect(fd, { address: '10.0.0.1', port: 80 }))).toBe('connect ETIMEDOUT');
    // SYN at 0, retries after 1 s and 2 s more, give up 4 s after that (RFC 6298 backoff).
    expect(net.clock.now() - t0).toBe(7_000_000);
    expect(b.stack.stats.get('tcp.retrans-segs')).toBe(2);
    net.close();
  });

  it('EHOSTUNREACH at once when ARP finds nobody (Linux reports ICMP errors during the handshake)', async () => {
    const { net, b } = pair();
    const fd = b.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    expect(await errnoOf(b.sys.connect(fd, { address: '10.0.0.99', port: 80 }))).toBe('connect EHOSTUNREACH');
    expect(await errnoOf(b.sys.connect(fd, { address: '192.168.7.7', port: 80 }))).toBe('connect ENETUNREACH');
    expect(await errnoOf(b.sys.connect(fd, { address: '10.0.0.255', port: 80 }))).toBe('connect ENETUNREACH');
    net.close();
  });
});

describe('errno of misused calls', () => {
  it('EADDRINUSE, and SO_REUSEADDR lets a restarted server bind over TIME-WAIT', async () => {
    const { net, a, b } = pair();
    const l1 = listener(a, 5000);
    const dup = a.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    expect(await errnoOf(() => a.sys.bind(dup, { address: '0.0.0.0', port: 5000 }))).toBe('bind EADDRINUSE');
    expect(await errnoOf(() => a.sys.bind(dup, { address: '10.0.0.1', port: 5000 }))).toBe('bind EADDRINUSE');
    a.sys.setsockopt(dup, C.SOL_SOCKET, C.SO_REUSEADDR, 1);
    // Even with SO_REUSEADDR on both, not over a listener.
    expect(await errnoOf(() => a.sys.bind(dup, { address: '0.0.0.0', port: 5000 }))).toBe('bind EADDRINUSE');
    expect(await errnoOf(() => a.sys.bind(dup, { address: '10.9.9.9', port: 5001 }))).toBe('bind EADDRNOTAVAIL');
    a.sys.close(dup);
    // A served connection that the server closes first leaves TIME-WAIT behind.
    const cli = b.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    const acc = a.sys.accept(l1);
    await b.sys.connect(cli, { address: '10.0.0.1', port: 5000 });
    const { fd: srv } = await acc;
    a.sys.close(srv);
    a.sys.close(l1);
    expect(await b.sys.read(cli, new Uint8Array(1))).toBe(0);
    b.sys.close(cli);
    await sleep(net, 10);
    expect(a.tcp.connectionStates()).toEqual(['TIME-WAIT']);
    const plain = a.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    expect(await errnoOf(() => a.sys.bind(plain, { address: '0.0.0.0', port: 5000 }))).toBe('bind EADDRINUSE');
    const again = listener(a, 5000);
    expect(a.sys.getsockname(again)).toEqual({ address: '0.0.0.0', port: 5000 });
    net.close();
  });

  it('EISCONN, ENOTCONN, EINVAL (listen on a connected socket, bind twice, accept on a non-listening socket), EPIPE before connect', async () => {
    const { net, a, b } = pair();
    const fresh = b.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    expect(await errnoOf(b.sys.read(fresh, new Uint8Array(1)))).toBe('read ENOTCONN');
    expect(await errnoOf(b.sys.write(fresh, new Uint8Array(1)))).toBe('write EPIPE');
    expect(await errnoOf(() => b.sys.getpeername(fresh))).toBe('getpeername ENOTCONN');
    expect(await errnoOf(() => b.sys.shutdown(fresh, C.SHUT_WR))).toBe('shutdown ENOTCONN');
    expect(await errnoOf(b.sys.accept(fresh))).toBe('accept EINVAL');
    b.sys.bind(fresh, { address: '0.0.0.0', port: 0 });
    expect(await errnoOf(() => b.sys.bind(fresh, { address: '0.0.0.0', port: 0 }))).toBe('bind EINVAL');
    const { lfd, cli } = await connected(a, b);
    expect(await errnoOf(b.sys.connect(cli, { address: '10.0.0.1', port: 7000 }))).toBe('connect EISCONN');
    expect(await errnoOf(() => b.sys.listen(cli, 1))).toBe('listen EINVAL');
    expect(await errnoOf(b.sys.accept(cli))).toBe('accept EINVAL');
    expect(await errnoOf(a.sys.read(lfd, new Uint8Array(1)))).toBe('read ENOTCONN');
    expect(await errnoOf(a.sys.connect(lfd, { address: '10.0.0.2', port: 1 }))).toBe('connect EISCONN');
    expect(await errnoOf(b.sys.recv(cli, new Uint8Array(1), C.MSG_OOB))).toBe('recv EINVAL');
    net.close();
  });

  it('EMFILE: accept leaves the connection queued when no descriptor is free', async () => {
    const { net, a, b } = pair({ rlimitNofile: 5 });
    const lfd = listener(a, 6000); // 3
    a.sys.socket(C.AF_INET, C.SOCK_STREAM, 0); // 4
    const cli = b.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    await b.sys.connect(cli, { address: '10.0.0.1', port: 6000 });
    expect(await errnoOf(() => a.sys.socket(C.AF_INET, C.SOCK_STREAM, 0))).toBe('socket EMFILE');
    expect(await errnoOf(a.sys.accept(lfd))).toBe('accept EMFILE');
    a.sys.close(4);
    expect((await a.sys.accept(lfd)).fd).toBe(4);
    net.close();
  });
});

describe('socket options', () => {
  it('SO_SNDBUF/SO_RCVBUF double, TCP_* options round-trip and validate, TCP_INFO describes the connection', async () => {
    const { net, a, b } = pair();
    const fd = b.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    b.sys.setsockopt(fd, C.SOL_SOCKET, C.SO_SNDBUF, 50_000);
    expect(b.sys.getsockopt(fd, C.SOL_SOCKET, C.SO_SNDBUF)).toBe(100_000);
    b.sys.setsockopt(fd, C.SOL_SOCKET, C.SO_RCVBUF, 1);
    expect(b.sys.getsockopt(fd, C.SOL_SOCKET, C.SO_RCVBUF)).toBe(2304);
    b.sys.setsockopt(fd, C.SOL_SOCKET, C.SO_RCVBUF, 65536);
    expect(b.sys.getsockopt(fd, C.SOL_SOCKET, C.SO_RCVBUF)).toBe(131072);
    expect(b.sys.getsockopt(fd, C.SOL_SOCKET, C.SO_ACCEPTCONN)).toBe(0);
    expect(b.sys.getsockopt(fd, C.SOL_SOCKET, C.SO_TYPE)).toBe(C.SOCK_STREAM);
    expect(b.sys.getsockopt(fd, C.SOL_SOCKET, C.SO_PROTOCOL)).toBe(C.IPPROTO_TCP);
    for (const [name, value] of [
      [C.TCP_NODELAY, 1],
      [C.TCP_CORK, 1],
      [C.TCP_KEEPIDLE, 30],
      [C.TCP_KEEPINTVL, 5],
      [C.TCP_KEEPCNT, 3],
      [C.TCP_USER_TIMEOUT, 10_000],
      [C.TCP_SYNCNT, 3],
      [C.TCP_MAXSEG, 1000],
    ] as const) {
      b.sys.setsockopt(fd, C.IPPROTO_TCP, name, value);
      expect(b.sys.getsockopt(fd, C.IPPROTO_TCP, name)).toBe(value);
    }
    b.sys.setsockopt(fd, C.IPPROTO_TCP, C.TCP_CORK, 0);
    expect(await errnoOf(() => b.sys.setsockopt(fd, C.IPPROTO_TCP, C.TCP_KEEPCNT, 0))).toBe('setsockopt EINVAL');
    expect(await errnoOf(() => b.sys.setsockopt(fd, C.IPPROTO_TCP, C.TCP_MAXSEG, 10))).toBe('setsockopt EINVAL');
    expect(await errnoOf(() => b.sys.setsockopt(fd, C.IPPROTO_TCP, C.TCP_SYNCNT, 200))).toBe('setsockopt EINVAL');
    expect(b.sys.getsockopt(fd, C.IPPROTO_TCP, C.TCP_CONGESTION)).toBe('cubic');
    b.sys.setsockopt(fd, C.IPPROTO_TCP, C.TCP_CONGESTION, 'reno');
    expect(b.sys.getsockopt(fd, C.IPPROTO_TCP, C.TCP_CONGESTION)).toBe('reno');
    expect(await errnoOf(() => b.sys.setsockopt(fd, C.IPPROTO_TCP, C.TCP_CONGESTION, 'bbr9'))).toBe('setsockopt ENOENT');
    expect(await errnoOf(() => b.sys.setsockopt(fd, C.IPPROTO_TCP, C.TCP_INFO, {}))).toBe('setsockopt ENOPROTOOPT');
    b.sys.setsockopt(fd, C.IPPROTO_IP, C.IP_TTL, 9);
    b.sys.setsockopt(fd, C.IPPROTO_IP, C.IP_TOS, 0xb8 | 3);
    expect(b.sys.getsockopt(fd, C.IPPROTO_IP, C.IP_TOS)).toBe(0xb8);
    expect((b.sys.getsockopt(fd, C.IPPROTO_TCP, C.TCP_INFO) as unknown as TcpInfoValue).state).toBe(7);

    const lfd = listener(a, 7100);
    const acc = a.sys.accept(lfd);
    await b.sys.connect(fd, { address: '10.0.0.1', port: 7100 });
    const { fd: srv } = await acc;
    // TCP_MAXSEG 1000 on the client: it announces 1000, so both ends send at most 1000.
    expect(b.sys.getsockopt(fd, C.IPPROTO_TCP, C.TCP_MAXSEG)).toBe(1000);
    // TCP_CONGESTION set before connect reaches the connection; the accepted side keeps the default.
    expect(b.sys.getsockopt(fd, C.IPPROTO_TCP, C.TCP_CONGESTION)).toBe('reno');
    expect(a.sys.getsockopt(srv, C.IPPROTO_TCP, C.TCP_CONGESTION)).toBe('cubic');
    expect(a.sys.getsockopt(srv, C.IPPROTO_TCP, C.TCP_MAXSEG)).toBe(1000);
    await b.sys.write(fd, new Uint8Array(5000));
    await readN(a.sys, srv, 5000);
    const info = b.sys.getsockopt(fd, C.IPPROTO_TCP, C.TCP_INFO) as unknown as TcpInfoValue;
    expect(info.state).toBe(1);
    expect(info.stateName).toBe('ESTABLISHED');
    expect(info.snd_mss).toBe(1000);
    expect(info.rtt).toBeGreaterThan(0);
    expect(info.rto).toBeGreaterThanOrEqual(200_000);
    expect(info.snd_cwnd).toBeGreaterThanOrEqual(10);
    expect(info.snd_ssthresh).toBe(0x7fffffff);
    expect(info.total_retrans).toBe(0);
    net.close();
  });

  it('SO_KEEPALIVE: an idle connection survives hours with probes, and a dead peer is detected after 2 h + 9 probes', async () => {
    const { net, a, b } = pair();
    const lfd = listener(a, 7200);
    const cli = b.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    b.sys.setsockopt(cli, C.SOL_SOCKET, C.SO_KEEPALIVE, 1);
    const acc = a.sys.accept(lfd);
    await b.sys.connect(cli, { address: '10.0.0.1', port: 7200 });
    await acc;
    const before = b.link.counters.get('sent');
    await net.clock.sleep(Duration.fromSecs(3 * 3600));
    // One probe (and its answer) after each 2 h of silence.
    expect(b.link.counters.get('sent') - before).toBeGreaterThanOrEqual(1);
    expect(b.tcp.connectionStates()).toEqual(['ESTABLISHED']);
    net.net.partition([a.link], [b.link]);
    const t0 = net.clock.now();
    expect(await errnoOf(b.sys.read(cli, new Uint8Array(1)))).toBe('read ETIMEDOUT');
    const waited = Duration.toSecs((net.clock.now() - t0) as Duration);
    // At most 2 h after the last answered probe, plus 9 unanswered probes 75 s apart.
    expect(waited).toBeGreaterThanOrEqual(9 * 75);
    expect(waited).toBeLessThanOrEqual(2 * 3600 + 9 * 75 + 1);
    net.close();
  });
});

describe('timers on live connections', () => {
  it('SO_KEEPALIVE with TCP_KEEPIDLE/INTVL/CNT set after accept() detects a dead peer in idle + cnt * intvl', async () => {
    const { net, a, b } = pair();
    const { srv } = await connected(a, b);
    a.sys.setsockopt(srv, C.IPPROTO_TCP, C.TCP_KEEPIDLE, 60);
    a.sys.setsockopt(srv, C.IPPROTO_TCP, C.TCP_KEEPINTVL, 10);
    a.sys.setsockopt(srv, C.IPPROTO_TCP, C.TCP_KEEPCNT, 3);
    a.sys.setsockopt(srv, C.SOL_SOCKET, C.SO_KEEPALIVE, 1);
    net.net.partition([a.link], [b.link]);
    const t0 = net.clock.now();
    expect(await errnoOf(a.sys.read(srv, new Uint8Array(1)))).toBe('read ETIMEDOUT');
    const waited = Duration.toSecs((net.clock.now() - t0) as Duration);
    expect(waited).toBeGreaterThan(60);
    expect(waited).toBeLessThanOrEqual(60 + 3 * 10 + 1);
    net.close();
  });

  it('TCP_USER_TIMEOUT bounds how long sent data may stay unacknowledged', async () => {
    const { net, a, b } = pair();
    const { cli } = await connected(a, b);
    b.sys.setsockopt(cli, C.IPPROTO_TCP, C.TCP_USER_TIMEOUT, 5000);
    net.net.partition([a.link], [b.link]);
    const t0 = net.clock.now();
    await b.sys.write(cli, enc.encode('lost'));
    expect(await errnoOf(b.sys.read(cli, new Uint8Array(1)))).toBe('read ETIMEDOUT');
    const waited = Duration.toSecs((net.clock.now() - t0) as Duration);
    expect(waited).toBeGreaterThanOrEqual(5);
    expect(waited).toBeLessThan(20);
    net.close();
  });
});

describe('listeners', () => {
  it('a full accept queue drops SYNs (the client retries) instead of refusing them', async () => {
    const { net, a, b } = pair();
    const lfd = listener(a, 7300, 0); // Linux: room for backlog + 1 = 1 connection
    const c1 = b.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    const c2 = b.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    await b.sys.connect(c1, { address: '10.0.0.1', port: 7300 });
    let second = false;
    const p2 = b.sys.connect(c2, { address: '10.0.0.1', port: 7300 }).then(() => {
      second = true;
    });
    await sleep(net, 500);
    expect(second).toBe(false);
    expect(a.stack.stats.get('tcp.listen-overflows')).toBeGreaterThan(0);
    await a.sys.accept(lfd);
    await p2; // the retransmitted SYN gets in
    expect((await a.sys.accept(lfd)).address.address).toBe('10.0.0.2');
    net.close();
  });

  it('closing a listener resets connections nobody accepted', async () => {
    const { net, a, b } = pair();
    const lfd = listener(a, 7400);
    const c = b.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    await b.sys.connect(c, { address: '10.0.0.1', port: 7400 });
    a.sys.close(lfd);
    expect(await errnoOf(b.sys.read(c, new Uint8Array(1)))).toBe('read ECONNRESET');
    expect(a.tcp.connectionCount).toBe(0);
    net.close();
  });

  it('serves 200 concurrent connections (deadline heap, no per-connection timers)', async () => {
    const { net, a, b } = pair();
    const lfd = listener(a, 7500, 256);
    const server = (async () => {
      const served: Promise<void>[] = [];
      for (let i = 0; i < 200; i++) {
        const { fd } = await a.sys.accept(lfd);
        served.push(
          (async () => {
            const buf = new Uint8Array(16);
            const n = await a.sys.read(fd, buf);
            await a.sys.write(fd, buf.subarray(0, n));
            a.sys.close(fd);
          })(),
        );
      }
      await Promise.all(served);
    })();
    const clients = Array.from({ length: 200 }, async (_, i) => {
      const fd = b.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
      await b.sys.connect(fd, { address: '10.0.0.1', port: 7500 });
      await b.sys.write(fd, enc.encode(`#${i}`));
      const got = await readAll(b.sys, fd);
      b.sys.close(fd);
      return got;
    });
    const replies = await Promise.all(clients);
    await server;
    expect(replies).toEqual(Array.from({ length: 200 }, (_, i) => `#${i}`));
    expect(a.tcp.connectionCount).toBe(200); // all in TIME-WAIT on the side that closed first
    await sleep(net, 61_000);
    expect(a.tcp.connectionCount + b.tcp.connectionCount).toBe(0);
    net.close();
  });
});

describe('TIME-WAIT', () => {
  it('a new SYN on a 4-tuple in TIME-WAIT reopens it (RFC 6191), as a client reusing its port does', async () => {
    const { net, a, b } = pair();
    const lfd = listener(a, 7600);
    for (let round = 0; round < 3; round++) {
      const cli = b.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
      b.sys.setsockopt(cli, C.SOL_SOCKET, C.SO_REUSEADDR, 1);
      b.sys.bind(cli, { address: '10.0.0.2', port: 40_000 });
      const acc = a.sys.accept(lfd);
      await b.sys.connect(cli, { address: '10.0.0.1', port: 7600 });
      const { fd: srv, address } = await acc;
      expect(address).toEqual({ address: '10.0.0.2', port: 40_000 });
      a.sys.close(srv); // the server closes first: its end waits in TIME-WAIT
      expect(await b.sys.read(cli, new Uint8Array(1))).toBe(0);
      b.sys.close(cli);
      await sleep(net, 100);
      expect(a.tcp.connectionStates()).toEqual(['TIME-WAIT']);
    }
    // The direct path: both later SYNs reopened the TIME-WAIT at once (their TSvals,
    // on the address pair's clock, are newer), with no challenge ACK, RST or
    // retransmitted SYN on the way.
    expect(a.stack.stats.get('tcp.time-wait-freed')).toBe(2);
    expect(a.stack.stats.get('tcp.out-rsts')).toBe(0);
    expect(b.stack.stats.get('tcp.out-rsts')).toBe(0);
    expect(a.stack.stats.get('tcp.retrans-segs')).toBe(0);
    expect(b.stack.stats.get('tcp.retrans-segs')).toBe(0);
    net.close();
  });
});

describe('SO_REUSEPORT', () => {
  it('lets several listeners share a port and spreads connections over them by flow', async () => {
    const { net, a, b } = pair();
    const mk = (): number => {
      const fd = a.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
      a.sys.setsockopt(fd, C.SOL_SOCKET, C.SO_REUSEPORT, 1);
      a.sys.bind(fd, { address: '0.0.0.0', port: 7700 });
      a.sys.listen(fd, 16);
      return fd;
    };
    const [l1, l2] = [mk(), mk()];
    const plain = a.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    expect(await errnoOf(() => a.sys.bind(plain, { address: '0.0.0.0', port: 7700 }))).toBe('bind EADDRINUSE');
    for (let i = 0; i < 8; i++) {
      const c = b.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
      await b.sys.connect(c, { address: '10.0.0.1', port: 7700 });
    }
    const ready = await a.sys.poll(
      [
        { fd: l1, events: C.POLLIN },
        { fd: l2, events: C.POLLIN },
      ],
      0,
    );
    expect(ready.map((p) => p.revents)).toEqual([C.POLLIN, C.POLLIN]);
    net.close();
  });
});
