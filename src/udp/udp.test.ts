import { describe, expect, it } from 'vitest';
import { MiniNet } from '../../examples/udp-mini-net.js';
import type { MiniHost } from '../../examples/udp-mini-net.js';
import { constants as C } from '../syscall/constants.js';
import { errnoOf, track } from '../syscall/outcome.fixtures.js';
import { parseIpv4 } from '../wire/ipv4.js';
import { parseUdp } from '../wire/udp.js';
import { UdpCounter } from './udp-protocol.js';
import { UDP_DATAGRAM_OVERHEAD } from './udp-socket.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

function lan(n = 2): { net: MiniNet; hosts: MiniHost[] } {
  const net = new MiniNet();
  const hosts = Array.from({ length: n }, (_, i) => net.addHost(`10.0.0.${i + 1}/24`, 100 + i));
  return { net, hosts };
}

function udpSocket(h: MiniHost, port?: number, address = '0.0.0.0'): number {
  const fd = h.sys.socket(C.AF_INET, C.SOCK_DGRAM, 0);
  if (port !== undefined) h.sys.bind(fd, { address, port });
  return fd;
}

describe('UDP datagrams between two hosts', () => {
  it('sendto / recvfrom with addresses, in both directions', async () => {
    const { net, hosts } = lan();
    const [a, b] = hosts as [MiniHost, MiniHost];
    const server = udpSocket(a, 5000);
    const client = udpSocket(b);
    const buf = new Uint8Array(100);
    const pending = a.sys.recvfrom(server, buf, 0);
    expect(await b.sys.sendto(client, enc.encode('hello'), 0, { address: '10.0.0.1', port: 5000 })).toBe(5);
    await net.settle();
    const r = await pending;
    expect(r.bytesRead).toBe(5);
    expect(dec.decode(buf.subarray(0, 5))).toBe('hello');
    const clientName = b.sys.getsockname(client);
    expect(clientName.address).toBe('0.0.0.0');
    expect(clientName.port).toBeGreaterThanOrEqual(32768);
    expect(clientName.port).toBeLessThanOrEqual(60999);
    expect(r.address).toEqual({ address: '10.0.0.2', port: clientName.port });
    await a.sys.sendto(server, enc.encode('world!'), 0, r.address);
    await net.settle();
    const back = await b.sys.recvfrom(client, buf, C.MSG_DONTWAIT);
    expect(back).toEqual({ bytesRead: 6, address: { address: '10.0.0.1', port: 5000 } });
    expect(a.stats.get(UdpCounter.InDatagrams)).toBe(1);
    expect(a.stats.get(UdpCounter.OutDatagrams)).toBe(1);
  });

  it('puts a valid RFC 768 header and checksum on the wire, with IP_TTL and IP_TOS', async () => {
    const { net, hosts } = lan();
    const [a, b] = hosts as [MiniHost, MiniHost];
    const fd = udpSocket(a, 1234);
    a.sys.setsockopt(fd, C.IPPROTO_IP, C.IP_TTL, 7);
    a.sys.setsockopt(fd, C.IPPROTO_IP, C.IP_TOS, 0xb8 | 3);
    expect(a.sys.getsockopt(fd, C.IPPROTO_IP, C.IP_TOS)).toBe(0xb8);
    await a.sys.sendto(fd, Uint8Array.of(1, 2, 3), 0, { address: '10.0.0.2', port: 9 });
    const ip = parseIpv4(net.wire[0]!);
    expect(ip.ok).toBe(true);
    if (!ip.ok) return;
    expect(ip.value.ttl).toBe(7);
    expect(ip.value.dscp).toBe(0xb8 >>> 2);
    expect(ip.value.ecn).toBe(0);
    // Linux IP_PMTUDISC_WANT (the default): DF on a datagram that fits the path MTU.
    expect(ip.value.dontFragment).toBe(true);
    const udp = parseUdp(ip.value.payload, { src: ip.value.src, dst: ip.value.dst });
    expect(udp.ok && udp.value.srcPort === 1234 && udp.value.dstPort === 9).toBe(true);
    expect(ip.value.payload[6]! | ip.value.payload[7]!).not.toBe(0);
    void b;
    // SO_NO_CHECK: the checksum field is zero (RFC 768 allows it over IPv4).
    a.sys.setsockopt(fd, C.SOL_SOCKET, C.SO_NO_CHECK, 1);
    await a.sys.sendto(fd, Uint8Array.of(1), 0, { address: '10.0.0.2', port: 9 });
    const ip2 = parseIpv4(net.wire[1]!);
    expect(ip2.ok && ip2.value.payload[6] === 0 && ip2.value.payload[7] === 0).toBe(true);
    expect(a.sys.getsockopt(fd, C.IPPROTO_IP, C.IP_TTL)).toBe(7);
    a.sys.setsockopt(fd, C.IPPROTO_IP, C.IP_TTL, -1);
    expect(a.sys.getsockopt(fd, C.IPPROTO_IP, C.IP_TTL)).toBe(64);
    expect(await errnoOf(() => a.sys.setsockopt(fd, C.IPPROTO_IP, C.IP_TTL, 0))).toBe('setsockopt EINVAL');
    expect(await errnoOf(() => a.sys.setsockopt(fd, C.IPPROTO_IP, C.IP_TTL, 256))).toBe('setsockopt EINVAL');
  });

  it('sendmsg gathers an iovec; recvmsg scatters and reports MSG_TRUNC', async () => {
    const { net, hosts } = lan();
    const [a, b] = hosts as [MiniHost, MiniHost];
    const s = udpSocket(a, 7);
    const c = udpSocket(b);
    await b.sys.sendmsg(c, { iov: [enc.encode('abc'), enc.encode('defg')], name: { address: '10.0.0.1', port: 7 } }, 0);
    await b.sys.sendmsg(c, { iov: [enc.encode('0123456789')], name: { address: '10.0.0.1', port: 7 } }, 0);
    await net.settle();
    const x = new Uint8Array(2);
    const y = new Uint8Array(10);
    const r = await a.sys.recvmsg(s, { iov: [x, y] }, 0);
    expect(r.bytesRead).toBe(7);
    expect(r.flags).toBe(0);
    expect(dec.decode(x) + dec.decode(y.subarray(0, 5))).toBe('abcdefg');
    expect(r.address.address).toBe('10.0.0.2');
    // A short buffer: MSG_TRUNC out, the rest of the datagram is discarded.
    const small = new Uint8Array(4);
    const t = await a.sys.recvmsg(s, { iov: [small] }, 0);
    expect(t).toMatchObject({ bytesRead: 4, flags: C.MSG_TRUNC });
    expect(dec.decode(small)).toBe('0123');
    expect(await errnoOf(a.sys.recv(s, small, C.MSG_DONTWAIT))).toBe('recv EAGAIN');
  });

  it('MSG_TRUNC in flags returns the real length; MSG_PEEK leaves the datagram queued', async () => {
    const { net, hosts } = lan();
    const [a, b] = hosts as [MiniHost, MiniHost];
    const s = udpSocket(a, 7);
    const c = udpSocket(b);
    await b.sys.sendto(c, enc.encode('a longer datagram'), 0, { address: '10.0.0.1', port: 7 });
    await net.settle();
    const buf = new Uint8Array(3);
    expect(await a.sys.recv(s, buf, C.MSG_PEEK)).toBe(3);
    expect(await a.sys.recv(s, buf, C.MSG_PEEK | C.MSG_TRUNC)).toBe(17);
    const big = new Uint8Array(64);
    expect(await a.sys.recv(s, big, C.MSG_PEEK)).toBe(17);
    expect(await a.sys.recv(s, new Uint8Array(0), C.MSG_TRUNC)).toBe(17);
    expect(await errnoOf(a.sys.recv(s, big, C.MSG_DONTWAIT))).toBe('recv EAGAIN');
  });

  it('zero-length datagrams are delivered and read as 0 bytes', async () => {
    const { net, hosts } = lan();
    const [a, b] = hosts as [MiniHost, MiniHost];
    const s = udpSocket(a, 7);
    const c = udpSocket(b);
    expect(await b.sys.sendto(c, new Uint8Array(0), 0, { address: '10.0.0.1', port: 7 })).toBe(0);
    await net.settle();
    const pfd = { fd: s, events: C.POLLIN };
    expect((await a.sys.poll([pfd], 0))[0]!.revents).toBe(C.POLLIN);
    const r = await a.sys.recvfrom(s, new Uint8Array(8), 0);
    expect(r.bytesRead).toBe(0);
    expect(r.address.address).toBe('10.0.0.2');
    expect((await a.sys.poll([pfd], 0))[0]!.revents).toBe(0);
  });

  it('loopback: a host talks to itself over 127.0.0.1', async () => {
    const { net, hosts } = lan(1);
    const a = hosts[0]!;
    const s = udpSocket(a, 53, '127.0.0.1');
    const c = udpSocket(a);
    await a.sys.sendto(c, enc.encode('q'), 0, { address: '127.0.0.1', port: 53 });
    await net.settle();
    const r = await a.sys.recvfrom(s, new Uint8Array(4), 0);
    expect(r.address.address).toBe('127.0.0.1');
    expect(net.wire.length).toBe(0);
  });

  it('EMSGSIZE above 65507 bytes; 65507 itself is fine', async () => {
    const { net, hosts } = lan();
    const [a, b] = hosts as [MiniHost, MiniHost];
    const s = udpSocket(a, 7);
    const c = udpSocket(b);
    expect(await errnoOf(b.sys.sendto(c, new Uint8Array(65508), 0, { address: '10.0.0.1', port: 7 }))).toBe(
      'sendto EMSGSIZE',
    );
    expect(await b.sys.sendto(c, new Uint8Array(65507).fill(7), 0, { address: '10.0.0.1', port: 7 })).toBe(65507);
    await net.settle();
    const big = new Uint8Array(70000);
    expect(await a.sys.recv(s, big, 0)).toBe(65507);
    expect(big[65506]).toBe(7);
  });
});

describe('UDP misuse errno', () => {
  it('EDESTADDRREQ without a peer; EOPNOTSUPP for listen/accept/MSG_OOB; EINVAL for port 0', async () => {
    const { hosts } = lan();
    const a = hosts[0]!;
    const fd = udpSocket(a);
    const buf = new Uint8Array(4);
    expect(await errnoOf(a.sys.send(fd, buf, 0))).toBe('send EDESTADDRREQ');
    expect(await errnoOf(a.sys.write(fd, buf))).toBe('write EDESTADDRREQ');
    expect(await errnoOf(a.sys.sendmsg(fd, { iov: [buf] }, 0))).toBe('sendmsg EDESTADDRREQ');
    expect(await errnoOf(() => a.sys.listen(fd, 5))).toBe('listen EOPNOTSUPP');
    expect(await errnoOf(a.sys.accept(fd))).toBe('accept EOPNOTSUPP');
    expect(await errnoOf(a.sys.sendto(fd, buf, C.MSG_OOB, { address: '10.0.0.2', port: 1 }))).toBe(
      'sendto EOPNOTSUPP',
    );
    expect(await errnoOf(a.sys.recv(fd, buf, C.MSG_OOB))).toBe('recv EOPNOTSUPP');
    expect(await errnoOf(a.sys.sendto(fd, buf, 0, { address: '10.0.0.2', port: 0 }))).toBe('sendto EINVAL');
    expect(await errnoOf(() => a.sys.getpeername(fd))).toBe('getpeername ENOTCONN');
    expect(await errnoOf(() => a.sys.shutdown(fd, C.SHUT_RD))).toBe('shutdown ENOTCONN');
  });

  it('ENETUNREACH off-link (no gateway); EADDRNOTAVAIL binding a foreign address; EINVAL binding twice', async () => {
    const { hosts } = lan();
    const a = hosts[0]!;
    const fd = udpSocket(a);
    expect(await errnoOf(a.sys.sendto(fd, new Uint8Array(1), 0, { address: '192.168.9.9', port: 1 }))).toBe(
      'sendto ENETUNREACH',
    );
    expect(await errnoOf(a.sys.connect(fd, { address: '192.168.9.9', port: 1 }))).toBe('connect ENETUNREACH');
    const g = udpSocket(a);
    expect(await errnoOf(() => a.sys.bind(g, { address: '10.0.0.2', port: 1 }))).toBe('bind EADDRNOTAVAIL');
    a.sys.bind(g, { address: '10.0.0.1', port: 1 });
    expect(await errnoOf(() => a.sys.bind(g, { address: '10.0.0.1', port: 2 }))).toBe('bind EINVAL');
    expect(a.sys.getsockname(g)).toEqual({ address: '10.0.0.1', port: 1 });
  });

  it('SO_TYPE / SO_PROTOCOL / SO_ACCEPTCONN / unknown levels', async () => {
    const { hosts } = lan();
    const a = hosts[0]!;
    const fd = udpSocket(a);
    expect(a.sys.getsockopt(fd, C.SOL_SOCKET, C.SO_TYPE)).toBe(C.SOCK_DGRAM);
    expect(a.sys.getsockopt(fd, C.SOL_SOCKET, C.SO_PROTOCOL)).toBe(C.IPPROTO_UDP);
    expect(a.sys.getsockopt(fd, C.SOL_SOCKET, C.SO_ACCEPTCONN)).toBe(0);
    expect(await errnoOf(() => a.sys.setsockopt(fd, C.IPPROTO_TCP, C.TCP_NODELAY, 1))).toBe('setsockopt ENOPROTOOPT');
    expect(await errnoOf(() => a.sys.getsockopt(fd, C.IPPROTO_IP, C.IP_ADD_MEMBERSHIP))).toBe('getsockopt ENOPROTOOPT');
  });
});

describe('bind rules', () => {
  it('EADDRINUSE for overlapping bindings unless both sockets allow sharing', async () => {
    const { hosts } = lan();
    const a = hosts[0]!;
    udpSocket(a, 53);
    const b = udpSocket(a);
    expect(await errnoOf(() => a.sys.bind(b, { address: '0.0.0.0', port: 53 }))).toBe('bind EADDRINUSE');
    expect(await errnoOf(() => a.sys.bind(b, { address: '10.0.0.1', port: 53 }))).toBe('bind EADDRINUSE');
    // Distinct specific addresses never conflict.
    const c = udpSocket(a, 54, '10.0.0.1');
    void c;
    a.sys.bind(b, { address: '127.0.0.1', port: 54 });
    // Both SO_REUSEADDR: allowed.
    const r1 = a.sys.socket(C.AF_INET, C.SOCK_DGRAM);
    const r2 = a.sys.socket(C.AF_INET, C.SOCK_DGRAM);
    a.sys.setsockopt(r1, C.SOL_SOCKET, C.SO_REUSEADDR, 1);
    a.sys.bind(r1, { address: '0.0.0.0', port: 60 });
    expect(await errnoOf(() => a.sys.bind(r2, { address: '0.0.0.0', port: 60 }))).toBe('bind EADDRINUSE');
    a.sys.setsockopt(r2, C.SOL_SOCKET, C.SO_REUSEADDR, 1);
    a.sys.bind(r2, { address: '0.0.0.0', port: 60 });
    // Closing frees the port.
    const x = udpSocket(a, 70);
    a.sys.close(x);
    udpSocket(a, 70);
  });

  it('ephemeral ports come from the configured range, deterministically per seed', async () => {
    const ports = (seed: number) => {
      const net = new MiniNet();
      const h = net.addHost('10.0.0.1/24', seed);
      h.udp.setEphemeralRange({ low: 40000, high: 40003 });
      const out: number[] = [];
      for (let i = 0; i < 4; i++) {
        const fd = udpSocket(h, 0);
        out.push(h.sys.getsockname(fd).port);
      }
      return { h, out };
    };
    const one = ports(1);
    expect([...one.out].sort()).toEqual([40000, 40001, 40002, 40003]);
    expect(ports(1).out).toEqual(one.out);
    // Exhausted: Linux answers EAGAIN for an ephemeral bind.
    const fd = one.h.sys.socket(C.AF_INET, C.SOCK_DGRAM);
    expect(await errnoOf(() => one.h.sys.bind(fd, { address: '0.0.0.0', port: 0 }))).toBe('bind EAGAIN');
  });

  it('SO_REUSEPORT spreads flows over the group; one flow always hits the same socket', async () => {
    const { net, hosts } = lan(5);
    const a = hosts[0]!;
    const group = [0, 1, 2].map(() => {
      const fd = a.sys.socket(C.AF_INET, C.SOCK_DGRAM);
      a.sys.setsockopt(fd, C.SOL_SOCKET, C.SO_REUSEPORT, 1);
      a.sys.bind(fd, { address: '0.0.0.0', port: 8000 });
      return fd;
    });
    const other = a.sys.socket(C.AF_INET, C.SOCK_DGRAM);
    expect(await errnoOf(() => a.sys.bind(other, { address: '0.0.0.0', port: 8000 }))).toBe('bind EADDRINUSE');
    const senders: [MiniHost, number][] = [];
    for (const h of hosts.slice(1)) for (let i = 0; i < 4; i++) senders.push([h, udpSocket(h)]);
    for (let round = 0; round < 2; round++) {
      for (const [h, fd] of senders) await h.sys.sendto(fd, Uint8Array.of(round), 0, { address: '10.0.0.1', port: 8000 });
    }
    await net.settle();
    const counts = group.map((fd) => a.udp.socketsOn(8000).find((s) => s === a.sys.handleOf(fd))!.receiveQueueLength);
    expect(counts.reduce((x, y) => x + y, 0)).toBe(32);
    expect(counts.filter((n) => n > 0).length).toBeGreaterThan(1);
    // Each flow's two datagrams went to one socket: every queue length is even.
    expect(counts.every((n) => n % 2 === 0)).toBe(true);
  });

  it('a specific binding beats the wildcard; the most recent of equals wins', async () => {
    const { net, hosts } = lan();
    const [a, b] = hosts as [MiniHost, MiniHost];
    const wild = a.sys.socket(C.AF_INET, C.SOCK_DGRAM);
    const spec = a.sys.socket(C.AF_INET, C.SOCK_DGRAM);
    for (const fd of [wild, spec]) a.sys.setsockopt(fd, C.SOL_SOCKET, C.SO_REUSEADDR, 1);
    a.sys.bind(spec, { address: '10.0.0.1', port: 99 });
    a.sys.bind(wild, { address: '0.0.0.0', port: 99 });
    const c = udpSocket(b);
    await b.sys.sendto(c, Uint8Array.of(1), 0, { address: '10.0.0.1', port: 99 });
    await net.settle();
    expect(await a.sys.recv(spec, new Uint8Array(1), C.MSG_DONTWAIT)).toBe(1);
    expect(await errnoOf(a.sys.recv(wild, new Uint8Array(1), C.MSG_DONTWAIT))).toBe('recv EAGAIN');
  });
});

describe('connected UDP sockets', () => {
  it('connect sets the default peer, fixes the source and filters what is received', async () => {
    const { net, hosts } = lan(3);
    const [a, b, c] = hosts as [MiniHost, MiniHost, MiniHost];
    const s = udpSocket(a, 4000);
    await a.sys.connect(s, { address: '10.0.0.2', port: 5000 });
    expect(a.sys.getpeername(s)).toEqual({ address: '10.0.0.2', port: 5000 });
    expect(a.sys.getsockname(s)).toEqual({ address: '10.0.0.1', port: 4000 });
    const fromB = udpSocket(b, 5000);
    const fromBWrongPort = udpSocket(b, 5001);
    const fromC = udpSocket(c, 5000);
    for (const [h, fd] of [
      [c, fromC],
      [b, fromBWrongPort],
      [b, fromB],
    ] as const) {
      await h.sys.sendto(fd, enc.encode(String(fd)), 0, { address: '10.0.0.1', port: 4000 });
    }
    await net.settle();
    const r = await a.sys.recvfrom(s, new Uint8Array(8), 0);
    expect(r.address).toEqual({ address: '10.0.0.2', port: 5000 });
    expect(await errnoOf(a.sys.recv(s, new Uint8Array(8), C.MSG_DONTWAIT))).toBe('recv EAGAIN');
    // write/send go to the peer; read works.
    expect(await a.sys.write(s, enc.encode('hi'))).toBe(2);
    await net.settle();
    const n = await b.sys.read(fromB, new Uint8Array(8));
    expect(n).toBe(2);
    // sendto with an explicit address on a connected UDP socket is allowed (Linux).
    await a.sys.sendto(s, enc.encode('x'), 0, { address: '10.0.0.3', port: 5000 });
    await net.settle();
    expect(await c.sys.recv(fromC, new Uint8Array(8), C.MSG_DONTWAIT)).toBe(1);
  });

  it('connect without bind autobinds; AF_UNSPEC dissolves and releases what bind did not fix', async () => {
    const { hosts } = lan();
    const a = hosts[0]!;
    const s = udpSocket(a);
    await a.sys.connect(s, { address: '10.0.0.2', port: 53 });
    const name = a.sys.getsockname(s);
    expect(name.address).toBe('10.0.0.1');
    expect(name.port).toBeGreaterThan(0);
    await a.sys.connect(s, { family: C.AF_UNSPEC });
    expect(await errnoOf(() => a.sys.getpeername(s))).toBe('getpeername ENOTCONN');
    expect(a.sys.getsockname(s)).toEqual({ address: '0.0.0.0', port: 0 });
    expect(await errnoOf(a.sys.send(s, new Uint8Array(1), 0))).toBe('send EDESTADDRREQ');
    // An explicit bind survives the disconnect (Linux SOCK_BINDPORT_LOCK).
    const t = udpSocket(a, 7777);
    await a.sys.connect(t, { address: '10.0.0.2', port: 53 });
    expect(a.sys.getsockname(t)).toEqual({ address: '10.0.0.1', port: 7777 });
    await a.sys.connect(t, { family: C.AF_UNSPEC });
    expect(a.sys.getsockname(t)).toEqual({ address: '0.0.0.0', port: 7777 });
  });

  it('ICMP port unreachable: ECONNREFUSED on the next call of a connected socket, then clears', async () => {
    const { net, hosts } = lan();
    const [a, b] = hosts as [MiniHost, MiniHost];
    const s = udpSocket(a);
    await a.sys.connect(s, { address: '10.0.0.2', port: 9999 });
    await a.sys.send(s, enc.encode('anyone?'), 0);
    await net.settle();
    expect(b.stats.get(UdpCounter.NoPorts)).toBe(1);
    expect(b.stats.get('icmp.out-dest-unreach')).toBe(1);
    const pfd = { fd: s, events: C.POLLIN };
    expect((await a.sys.poll([pfd], 0))[0]!.revents).toBe(C.POLLERR);
    expect(await errnoOf(a.sys.recv(s, new Uint8Array(8), 0))).toBe('recv ECONNREFUSED');
    expect(await errnoOf(a.sys.recv(s, new Uint8Array(8), C.MSG_DONTWAIT))).toBe('recv EAGAIN');
    // Next time through send, and through SO_ERROR.
    await a.sys.send(s, enc.encode('again'), 0);
    await net.settle();
    expect(await errnoOf(a.sys.send(s, enc.encode('x'), 0))).toBe('send ECONNREFUSED');
    await a.sys.send(s, enc.encode('third'), 0);
    await net.settle();
    expect(a.sys.getsockopt(s, C.SOL_SOCKET, C.SO_ERROR)).toBe(111);
    expect(a.sys.getsockopt(s, C.SOL_SOCKET, C.SO_ERROR)).toBe(0);
  });

  it('a blocked recv on a connected socket is woken by the ICMP error', async () => {
    const { net, hosts } = lan();
    const a = hosts[0]!;
    const s = udpSocket(a);
    await a.sys.connect(s, { address: '10.0.0.2', port: 9999 });
    const p = track(a.sys.recv(s, new Uint8Array(8), 0));
    await a.sys.send(s, enc.encode('?'), 0);
    await net.settle();
    expect(await errnoOf(p.promise)).toBe('recv ECONNREFUSED');
  });

  it('unconnected sockets ignore port unreachable unless IP_RECVERR', async () => {
    const { net, hosts } = lan();
    const a = hosts[0]!;
    const s = udpSocket(a);
    await a.sys.sendto(s, enc.encode('?'), 0, { address: '10.0.0.2', port: 9999 });
    await net.settle();
    expect(a.sys.getsockopt(s, C.SOL_SOCKET, C.SO_ERROR)).toBe(0);
    a.sys.setsockopt(s, C.IPPROTO_IP, C.IP_RECVERR, 1);
    expect(a.sys.getsockopt(s, C.IPPROTO_IP, C.IP_RECVERR)).toBe(1);
    await a.sys.sendto(s, enc.encode('?'), 0, { address: '10.0.0.2', port: 9998 });
    await net.settle();
    expect(await errnoOf(a.sys.recvfrom(s, new Uint8Array(8), 0))).toBe('recvfrom ECONNREFUSED');
  });

  it('turning IP_RECVERR off purges the error queue, as on Linux', async () => {
    const { net, hosts } = lan();
    const a = hosts[0]!;
    const s = udpSocket(a);
    a.sys.setsockopt(s, C.IPPROTO_IP, C.IP_RECVERR, 1);
    await a.sys.sendto(s, enc.encode('?'), 0, { address: '10.0.0.2', port: 9998 });
    await net.settle();
    const peek = await a.sys.recvmsg(s, { iov: [new Uint8Array(8)] }, C.MSG_ERRQUEUE | C.MSG_PEEK);
    expect(peek.flags & C.MSG_ERRQUEUE).toBe(C.MSG_ERRQUEUE);
    a.sys.setsockopt(s, C.IPPROTO_IP, C.IP_RECVERR, 0);
    expect(await errnoOf(a.sys.recvmsg(s, { iov: [new Uint8Array(8)] }, C.MSG_ERRQUEUE))).toBe('recvmsg EAGAIN');
  });

  it('port unreachable generation is rate limited', async () => {
    const { net, hosts } = lan();
    const [a, b] = hosts as [MiniHost, MiniHost];
    const s = udpSocket(a);
    for (let i = 0; i < 20; i++) await a.sys.sendto(s, Uint8Array.of(i), 0, { address: '10.0.0.2', port: 1 });
    await net.settle();
    expect(b.stats.get(UdpCounter.NoPorts)).toBe(20);
    // Linux-like per-destination bucket: a burst of 6.
    expect(b.stats.get('icmp.out-dest-unreach')).toBe(6);
  });

  it('shutdown: SHUT_RD makes recv return 0 and poll POLLRDHUP; SHUT_WR makes send fail EPIPE', async () => {
    const { hosts } = lan();
    const a = hosts[0]!;
    const s = udpSocket(a);
    await a.sys.connect(s, { address: '10.0.0.2', port: 1 });
    const blocked = track(a.sys.recv(s, new Uint8Array(4), 0));
    a.sys.shutdown(s, C.SHUT_RD);
    expect(await blocked.promise).toBe(0);
    const pfd = { fd: s, events: C.POLLIN | C.POLLRDHUP };
    expect((await a.sys.poll([pfd], 0))[0]!.revents).toBe(C.POLLIN | C.POLLRDHUP);
    a.sys.shutdown(s, C.SHUT_WR);
    expect(await errnoOf(a.sys.send(s, new Uint8Array(1), 0))).toBe('send EPIPE');
    const all = { fd: s, events: C.POLLOUT };
    expect((await a.sys.poll([all], 0))[0]!.revents & C.POLLHUP).toBe(C.POLLHUP);
  });
});

describe('receive buffer', () => {
  it('SO_RCVBUF bounds the queue; drops are counted per socket and in the stack statistics', async () => {
    const { net, hosts } = lan();
    const [a, b] = hosts as [MiniHost, MiniHost];
    const s = udpSocket(a, 7);
    a.sys.setsockopt(s, C.SOL_SOCKET, C.SO_RCVBUF, 1000);
    const rcvbuf = a.sys.getsockopt(s, C.SOL_SOCKET, C.SO_RCVBUF) as number;
    expect(rcvbuf).toBe(2304);
    const c = udpSocket(b);
    for (let i = 0; i < 10; i++) await b.sys.sendto(c, new Uint8Array(500).fill(i), 0, { address: '10.0.0.1', port: 7 });
    await net.settle();
    // Accepted while the queue holds at most rcvbuf bytes (Linux lets the last one overshoot).
    const per = 500 + UDP_DATAGRAM_OVERHEAD;
    const fits = Math.floor(rcvbuf / per) + 1;
    const sock = a.udp.socketsOn(7)[0]!;
    expect(sock.receiveQueueLength).toBe(fits);
    expect(sock.drops).toBe(10 - fits);
    expect(a.stats.get(UdpCounter.RcvbufErrors)).toBe(10 - fits);
    expect(a.stats.get(UdpCounter.InDatagrams)).toBe(fits);
    // Reading makes room again; the survivors are the oldest, in order.
    const buf = new Uint8Array(600);
    for (let i = 0; i < fits; i++) {
      expect(await a.sys.recv(s, buf, 0)).toBe(500);
      expect(buf[0]).toBe(i);
    }
    await b.sys.sendto(c, Uint8Array.of(42), 0, { address: '10.0.0.1', port: 7 });
    await net.settle();
    expect(await a.sys.recv(s, buf, 0)).toBe(1);
  });
});

describe('broadcast and multicast', () => {
  it('EACCES without SO_BROADCAST; delivered to every host (and looped back) with it', async () => {
    const { net, hosts } = lan(3);
    const [a, b, c] = hosts as [MiniHost, MiniHost, MiniHost];
    const rb = udpSocket(b, 67);
    const rc = udpSocket(c, 67);
    const ra = udpSocket(a, 67);
    const specific = a.sys.socket(C.AF_INET, C.SOCK_DGRAM);
    const s = udpSocket(a);
    for (const dst of ['255.255.255.255', '10.0.0.255']) {
      expect(await errnoOf(a.sys.sendto(s, Uint8Array.of(1), 0, { address: dst, port: 67 }))).toBe('sendto EACCES');
    }
    expect(await errnoOf(a.sys.connect(s, { address: '10.0.0.255', port: 67 }))).toBe('connect EACCES');
    a.sys.setsockopt(s, C.SOL_SOCKET, C.SO_BROADCAST, 1);
    expect(a.sys.getsockopt(s, C.SOL_SOCKET, C.SO_BROADCAST)).toBe(1);
    void specific;
    await a.sys.sendto(s, enc.encode('dhcp?'), 0, { address: '255.255.255.255', port: 67 });
    await a.sys.sendto(s, enc.encode('subnet'), 0, { address: '10.0.0.255', port: 67 });
    await net.settle();
    for (const [h, fd] of [
      [b, rb],
      [c, rc],
      [a, ra],
    ] as const) {
      expect(await h.sys.recv(fd, new Uint8Array(16), C.MSG_DONTWAIT)).toBe(5);
      expect(await h.sys.recv(fd, new Uint8Array(16), C.MSG_DONTWAIT)).toBe(6);
    }
    // No port unreachable for broadcasts.
    expect(b.stats.get('icmp.out-dest-unreach')).toBe(0);
  });

  it('IP_ADD_MEMBERSHIP / IP_DROP_MEMBERSHIP control multicast delivery; IP_MULTICAST_LOOP/TTL', async () => {
    const { net, hosts } = lan(3);
    const [a, b, c] = hosts as [MiniHost, MiniHost, MiniHost];
    const group = { multiaddr: '239.1.2.3', interface: '0.0.0.0' };
    const rb = udpSocket(b, 5353);
    const rc = udpSocket(c, 5353);
    b.sys.setsockopt(rb, C.IPPROTO_IP, C.IP_ADD_MEMBERSHIP, group);
    expect(b.groups.size).toBe(1);
    expect(await errnoOf(() => b.sys.setsockopt(rb, C.IPPROTO_IP, C.IP_ADD_MEMBERSHIP, group))).toBe(
      'setsockopt EADDRINUSE',
    );
    expect(
      await errnoOf(() => b.sys.setsockopt(rb, C.IPPROTO_IP, C.IP_ADD_MEMBERSHIP, { multiaddr: '10.0.0.9' })),
    ).toBe('setsockopt EINVAL');
    expect(
      await errnoOf(() =>
        b.sys.setsockopt(rb, C.IPPROTO_IP, C.IP_ADD_MEMBERSHIP, { multiaddr: '239.9.9.9', interface: '10.0.0.1' }),
      ),
    ).toBe('setsockopt ENODEV');
    const ra = udpSocket(a, 5353);
    a.sys.setsockopt(ra, C.IPPROTO_IP, C.IP_ADD_MEMBERSHIP, group);
    const s = udpSocket(a);
    expect(a.sys.getsockopt(s, C.IPPROTO_IP, C.IP_MULTICAST_TTL)).toBe(1);
    expect(a.sys.getsockopt(s, C.IPPROTO_IP, C.IP_MULTICAST_LOOP)).toBe(1);
    a.sys.setsockopt(s, C.IPPROTO_IP, C.IP_MULTICAST_TTL, 4);
    await a.sys.sendto(s, enc.encode('mdns'), 0, { address: '239.1.2.3', port: 5353 });
    await net.settle();
    const ip = parseIpv4(net.wire[0]!);
    expect(ip.ok && ip.value.ttl).toBe(4);
    expect(await b.sys.recv(rb, new Uint8Array(8), C.MSG_DONTWAIT)).toBe(4);
    expect(await a.sys.recv(ra, new Uint8Array(8), C.MSG_DONTWAIT)).toBe(4);
    expect(await errnoOf(c.sys.recv(rc, new Uint8Array(8), C.MSG_DONTWAIT))).toBe('recv EAGAIN');
    expect(c.stats.get(UdpCounter.IgnoredMulti)).toBe(1);
    // No loopback copy when IP_MULTICAST_LOOP is off.
    a.sys.setsockopt(s, C.IPPROTO_IP, C.IP_MULTICAST_LOOP, 0);
    await a.sys.sendto(s, enc.encode('two'), 0, { address: '239.1.2.3', port: 5353 });
    await net.settle();
    expect(await errnoOf(a.sys.recv(ra, new Uint8Array(8), C.MSG_DONTWAIT))).toBe('recv EAGAIN');
    expect(await b.sys.recv(rb, new Uint8Array(8), C.MSG_DONTWAIT)).toBe(3);
    // Dropping the membership stops delivery; dropping twice is EADDRNOTAVAIL.
    b.sys.setsockopt(rb, C.IPPROTO_IP, C.IP_DROP_MEMBERSHIP, group);
    expect(b.groups.size).toBe(0);
    expect(await errnoOf(() => b.sys.setsockopt(rb, C.IPPROTO_IP, C.IP_DROP_MEMBERSHIP, group))).toBe(
      'setsockopt EADDRNOTAVAIL',
    );
    await a.sys.sendto(s, enc.encode('three'), 0, { address: '239.1.2.3', port: 5353 });
    await net.settle();
    expect(await errnoOf(b.sys.recv(rb, new Uint8Array(8), C.MSG_DONTWAIT))).toBe('recv EAGAIN');
  });

  it('IP_MULTICAST_ALL off: only sockets that joined the group themselves receive it', async () => {
    const { net, hosts } = lan();
    const [a, b] = hosts as [MiniHost, MiniHost];
    const [joined, bystander] = [0, 1].map(() => {
      const fd = b.sys.socket(C.AF_INET, C.SOCK_DGRAM);
      b.sys.setsockopt(fd, C.SOL_SOCKET, C.SO_REUSEADDR, 1);
      b.sys.bind(fd, { address: '0.0.0.0', port: 6000 });
      return fd;
    }) as [number, number];
    b.sys.setsockopt(joined, C.IPPROTO_IP, C.IP_ADD_MEMBERSHIP, { multiaddr: '239.0.0.7' });
    expect(b.sys.getsockopt(bystander, C.IPPROTO_IP, C.IP_MULTICAST_ALL)).toBe(1);
    b.sys.setsockopt(bystander, C.IPPROTO_IP, C.IP_MULTICAST_ALL, 0);
    const s = udpSocket(a);
    await a.sys.sendto(s, Uint8Array.of(1), 0, { address: '239.0.0.7', port: 6000 });
    await net.settle();
    expect(await b.sys.recv(joined, new Uint8Array(8), C.MSG_DONTWAIT)).toBe(1);
    expect(await errnoOf(b.sys.recv(bystander, new Uint8Array(8), C.MSG_DONTWAIT))).toBe('recv EAGAIN');
  });

  it('closing a socket leaves its groups', () => {
    const { hosts } = lan();
    const b = hosts[1]!;
    const fd = udpSocket(b, 1);
    b.sys.setsockopt(fd, C.IPPROTO_IP, C.IP_ADD_MEMBERSHIP, { multiaddr: '239.0.0.1' });
    b.sys.setsockopt(fd, C.IPPROTO_IP, C.IP_MULTICAST_IF, '10.0.0.2');
    expect(b.sys.getsockopt(fd, C.IPPROTO_IP, C.IP_MULTICAST_IF)).toBe('10.0.0.2');
    expect(b.groups.size).toBe(1);
    b.sys.close(fd);
    expect(b.groups.size).toBe(0);
  });
});

describe('blocking and timeouts on UDP', () => {
  it('O_NONBLOCK recv is EAGAIN; SO_RCVTIMEO expires in virtual time; poll wakes on arrival', async () => {
    const { net, hosts } = lan();
    const [a, b] = hosts as [MiniHost, MiniHost];
    const s = udpSocket(a, 7);
    a.sys.fcntl(s, C.F_SETFL, C.O_NONBLOCK);
    expect(await errnoOf(a.sys.recvfrom(s, new Uint8Array(4), 0))).toBe('recvfrom EAGAIN');
    a.sys.fcntl(s, C.F_SETFL, 0);
    a.sys.setsockopt(s, C.SOL_SOCKET, C.SO_RCVTIMEO, { sec: 2, usec: 0 });
    const t0 = net.clock.now();
    const p = track(a.sys.recv(s, new Uint8Array(4), 0));
    await net.settle();
    expect(await errnoOf(p.promise)).toBe('recv EAGAIN');
    expect(net.clock.now() - t0).toBe(2_000_000);
    const pfd = { fd: s, events: C.POLLIN };
    const polled = track(a.sys.poll([pfd], 10_000));
    await net.advance(5);
    expect(polled.settled()).toBe(false);
    const c = udpSocket(b);
    await b.sys.sendto(c, Uint8Array.of(1), 0, { address: '10.0.0.1', port: 7 });
    await net.advance(1);
    expect((await polled.promise)[0]!.revents).toBe(C.POLLIN);
  });

  it('close() of a descriptor blocked in recvfrom rejects it with EBADF', async () => {
    const { hosts } = lan();
    const a = hosts[0]!;
    const s = udpSocket(a, 7);
    const p = track(a.sys.recvfrom(s, new Uint8Array(4), 0));
    a.sys.close(s);
    expect(await errnoOf(p.promise)).toBe('recvfrom EBADF');
    expect(a.udp.socketsOn(7)).toEqual([]);
  });
});

describe('input robustness', () => {
  it('corrupt checksums and truncated headers are dropped and counted, never thrown', async () => {
    const { net, hosts } = lan();
    const [a, b] = hosts as [MiniHost, MiniHost];
    const s = udpSocket(a, 7);
    const c = udpSocket(b);
    net.drop = (packet) => {
      packet[packet.length - 1]! ^= 0xff;
      return false;
    };
    await b.sys.sendto(c, Uint8Array.of(1, 2, 3), 0, { address: '10.0.0.1', port: 7 });
    await net.settle();
    expect(a.stats.get(UdpCounter.InCsumErrors)).toBe(1);
    expect(await errnoOf(a.sys.recv(s, new Uint8Array(4), C.MSG_DONTWAIT))).toBe('recv EAGAIN');
    a.udp.receive(0x0a000002, 0x0a000001, Uint8Array.of(0, 1, 0), true, () => undefined);
    a.udp.receive(0x0a000002, 0x0a000001, Uint8Array.of(0, 1, 0, 0, 0, 8, 0, 0), false, () => undefined);
    expect(a.stats.get(UdpCounter.InErrors)).toBe(3);
  });
});
