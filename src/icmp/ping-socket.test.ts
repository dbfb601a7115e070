import { describe, expect, it } from 'vitest';
import { MemoryNetwork } from '../link/memory.js';
import { Stack } from '../stack/stack.js';
import { constants as C } from '../syscall/constants.js';
import { errnoOf } from '../syscall/outcome.fixtures.js';
import { Duration } from '../time/duration.js';
import { ManualClock } from '../time/manual-clock.js';
import { readU16 } from '../wire/bytes.js';
import { Icmpv4Type, isIcmpv4Other, parseIcmpv4 } from '../wire/icmpv4.js';

/** a (10.0.0.1) -- r (router, forwarding) -- b (10.0.1.2), on two MemoryNetwork segments. */
function routed() {
  const clock = new ManualClock();
  const left = new MemoryNetwork({ clock, seed: 1, latency: Duration.fromMillis(1) });
  const right = new MemoryNetwork({ clock, seed: 2, latency: Duration.fromMillis(1) });
  const a = new Stack({ clock, seed: 11 });
  const r = new Stack({ clock, seed: 12, forwarding: true });
  const b = new Stack({ clock, seed: 13 });
  a.addInterface(left.attach({ name: 'a' }), { address: '10.0.0.1/24', gateway: '10.0.0.254' });
  r.addInterface(left.attach({ name: 'r0' }), { address: '10.0.0.254/24' });
  r.addInterface(right.attach({ name: 'r1' }), { address: '10.0.1.254/24' });
  b.addInterface(right.attach({ name: 'b' }), { address: '10.0.1.2/24', gateway: '10.0.1.254' });
  // Build b's socket layer so UDP is registered there (else it answers "protocol unreachable").
  void b.sys;
  return { clock, a, r, b };
}

async function run(clock: ManualClock, ms: number): Promise<void> {
  for (let t = 0; t < ms; t++) {
    clock.advance(Duration.fromMillis(1));
    await new Promise<void>((res) => setTimeout(res, 0));
  }
}

/** An echo request as a program writes it: type 8, code 0, identifier and checksum left for the kernel. */
function echoRequest(sequence: number, data: string): Uint8Array {
  const body = new TextEncoder().encode(data);
  const m = new Uint8Array(8 + body.length);
  m[0] = 8;
  m[4] = 0xde; // an identifier the kernel must overwrite
  m[5] = 0xad;
  m[6] = sequence >> 8;
  m[7] = sequence & 0xff;
  m.set(body, 8);
  return m;
}

describe('ping sockets: socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)', () => {
  it('sendto an echo request, recvfrom the reply carrying the socket identifier, sequence and data', async () => {
    const { clock, a } = routed();
    const fd = a.sys.socket(C.AF_INET, C.SOCK_DGRAM, C.IPPROTO_ICMP);
    expect(a.sys.getsockopt(fd, C.SOL_SOCKET, C.SO_PROTOCOL)).toBe(C.IPPROTO_ICMP);
    const buf = new Uint8Array(128);
    const got = a.sys.recvfrom(fd, buf, 0);
    expect(await a.sys.sendto(fd, echoRequest(7, 'hello, router'), 0, { address: '10.0.1.2', port: 0 })).toBe(21);
    const id = a.sys.getsockname(fd).port;
    expect(id).toBeGreaterThan(0);
    await run(clock, 20);
    const r = await got;
    expect(r.address).toEqual({ address: '10.0.1.2', port: 0 });
    expect(r.bytesRead).toBe(21);
    const reply = parseIcmpv4(buf.subarray(0, r.bytesRead));
    expect(reply.ok).toBe(true);
    if (!reply.ok || isIcmpv4Other(reply.value) || reply.value.type !== Icmpv4Type.EchoReply) throw new Error('not an echo reply');
    expect(reply.value.identifier).toBe(id);
    expect(reply.value.sequence).toBe(7);
    expect(new TextDecoder().decode(reply.value.data)).toBe('hello, router');
    expect(a.stats.get('icmp.out-echos')).toBe(1);
  });

  it('bind chooses the identifier; replies for other identifiers and, once connected, other peers are filtered', async () => {
    const { clock, a } = routed();
    const s1 = a.sys.socket(C.AF_INET, C.SOCK_DGRAM, C.IPPROTO_ICMP);
    const s2 = a.sys.socket(C.AF_INET, C.SOCK_DGRAM, C.IPPROTO_ICMP);
    a.sys.bind(s1, { address: '0.0.0.0', port: 4242 });
    expect(a.sys.getsockname(s1)).toEqual({ address: '0.0.0.0', port: 4242 });
    expect(await errnoOf(() => a.sys.bind(s2, { address: '0.0.0.0', port: 4242 }))).toBe('bind EADDRINUSE');
    expect(await errnoOf(() => a.sys.bind(s1, { address: '0.0.0.0', port: 1 }))).toBe('bind EINVAL');
    await a.sys.connect(s2, { address: '10.0.0.254', port: 0 });
    await a.sys.sendto(s1, echoRequest(1, 'x'), 0, { address: '10.0.0.254', port: 0 });
    await a.sys.send(s2, echoRequest(2, 'y'), 0);
    await a.sys.sendto(s2, echoRequest(3, 'z'), 0, { address: '10.0.1.2', port: 0 });
    await run(clock, 20);
    const buf = new Uint8Array(64);
    const r1 = await a.sys.recvfrom(s1, buf, C.MSG_DONTWAIT);
    expect([readU16(buf, 4), readU16(buf, 6), r1.address.address]).toEqual([4242, 1, '10.0.0.254']);
    const r2 = await a.sys.recvfrom(s2, buf, C.MSG_DONTWAIT);
    expect([readU16(buf, 6), r2.address.address]).toEqual([2, '10.0.0.254']);
    // The reply from 10.0.1.2 is not from the connected peer.
    expect(await errnoOf(a.sys.recvfrom(s2, buf, C.MSG_DONTWAIT))).toBe('recvfrom EAGAIN');
    expect(await errnoOf(a.sys.recvfrom(s1, buf, C.MSG_DONTWAIT))).toBe('recvfrom EAGAIN');
  });

  it('misuse fails with Linux errnos', async () => {
    const { a } = routed();
    const fd = a.sys.socket(C.AF_INET, C.SOCK_DGRAM, C.IPPROTO_ICMP);
    const to = { address: '10.0.0.254', port: 0 };
    expect(await errnoOf(a.sys.sendto(fd, new Uint8Array(7), 0, to))).toBe('sendto EINVAL');
    const reply = echoRequest(1, '');
    reply[0] = 0;
    expect(await errnoOf(a.sys.sendto(fd, reply, 0, to))).toBe('sendto EINVAL');
    const coded = echoRequest(1, '');
    coded[1] = 1;
    expect(await errnoOf(a.sys.sendto(fd, coded, 0, to))).toBe('sendto EINVAL');
    expect(await errnoOf(a.sys.send(fd, echoRequest(1, ''), 0))).toBe('send EDESTADDRREQ');
    expect(await errnoOf(a.sys.sendto(fd, echoRequest(1, ''), 0, { address: '10.0.0.255', port: 0 }))).toBe('sendto EACCES');
    expect(await errnoOf(a.sys.sendto(fd, new Uint8Array(65536), 0, to))).toBe('sendto EMSGSIZE');
    expect(await errnoOf(a.sys.sendto(fd, echoRequest(1, ''), C.MSG_OOB, to))).toBe('sendto EOPNOTSUPP');
    expect(await errnoOf(() => a.sys.bind(fd, { address: '10.9.9.9', port: 0 }))).toBe('bind EADDRNOTAVAIL');
    expect(await errnoOf(() => a.sys.listen(fd, 1))).toBe('listen EOPNOTSUPP');
    expect(await errnoOf(a.sys.recvmsg(fd, { iov: [new Uint8Array(8)] }, C.MSG_ERRQUEUE))).toBe('recvmsg EAGAIN');
  });

  it('after shutdown(SHUT_RD) poll reports POLLIN and POLLRDHUP, as Linux datagram_poll does for ping sockets', async () => {
    const { a } = routed();
    const fd = a.sys.socket(C.AF_INET, C.SOCK_DGRAM, C.IPPROTO_ICMP);
    await a.sys.connect(fd, { address: '10.0.0.254', port: 0 });
    const [before] = await a.sys.poll([{ fd, events: C.POLLIN | C.POLLRDHUP }], 0);
    expect((before?.revents ?? -1) & (C.POLLIN | C.POLLRDHUP)).toBe(0);
    a.sys.shutdown(fd, C.SHUT_RD);
    const [after] = await a.sys.poll([{ fd, events: C.POLLIN | C.POLLRDHUP }], 0);
    expect((after?.revents ?? 0) & (C.POLLIN | C.POLLRDHUP)).toBe(C.POLLIN | C.POLLRDHUP);
  });

  it('IP_RECVERR: an ICMP time exceeded about a request is queued and read with recvmsg(MSG_ERRQUEUE)', async () => {
    const { clock, a } = routed();
    const fd = a.sys.socket(C.AF_INET, C.SOCK_DGRAM, C.IPPROTO_ICMP);
    a.sys.setsockopt(fd, C.IPPROTO_IP, C.IP_TTL, 1);
    // Without IP_RECVERR an unconnected socket hears nothing (Linux ping_err).
    await a.sys.sendto(fd, echoRequest(1, 'abc'), 0, { address: '10.0.1.2', port: 0 });
    await run(clock, 20);
    expect(a.sys.getsockopt(fd, C.SOL_SOCKET, C.SO_ERROR)).toBe(0);
    a.sys.setsockopt(fd, C.IPPROTO_IP, C.IP_RECVERR, 1);
    await a.sys.sendto(fd, echoRequest(2, 'abc'), 0, { address: '10.0.1.2', port: 0 });
    await run(clock, 20);
    const [p] = await a.sys.poll([{ fd, events: C.POLLIN }], 0);
    expect(p!.revents & C.POLLERR).toBe(C.POLLERR);
    const buf = new Uint8Array(64);
    const m = await a.sys.recvmsg(fd, { iov: [buf] }, C.MSG_ERRQUEUE);
    expect(m.flags & C.MSG_ERRQUEUE).toBe(C.MSG_ERRQUEUE);
    expect(m.address).toEqual({ address: '10.0.1.2', port: 0 });
    expect(m.error).toEqual({
      errno: 113,
      name: 'EHOSTUNREACH',
      origin: C.SO_EE_ORIGIN_ICMP,
      icmpType: 11,
      icmpCode: 0,
      info: 0,
      data: 0,
      offender: '10.0.0.254',
    });
    // The quoted request, from its ICMP header on: our identifier and sequence 2.
    expect(buf[0]).toBe(8);
    expect(readU16(buf, 4)).toBe(a.sys.getsockname(fd).port);
    expect(readU16(buf, 6)).toBe(2);
    expect(await errnoOf(a.sys.recvmsg(fd, { iov: [buf] }, C.MSG_ERRQUEUE))).toBe('recvmsg EAGAIN');
  });
});

describe('IP_RECVERR on UDP sockets', () => {
  it('port unreachable: SO_ERROR, POLLERR, then the typed error and quoted payload from recvmsg(MSG_ERRQUEUE); MSG_PEEK keeps it', async () => {
    const { clock, a } = routed();
    const fd = a.sys.socket(C.AF_INET, C.SOCK_DGRAM, 0);
    a.sys.setsockopt(fd, C.IPPROTO_IP, C.IP_RECVERR, 1);
    await a.sys.sendto(fd, new TextEncoder().encode('knock knock'), 0, { address: '10.0.1.2', port: 9 });
    await run(clock, 20);
    const [p] = await a.sys.poll([{ fd, events: C.POLLIN }], 0);
    expect(p!.revents).toBe(C.POLLERR);
    const buf = new Uint8Array(64);
    const peek = await a.sys.recvmsg(fd, { iov: [buf] }, C.MSG_ERRQUEUE | C.MSG_PEEK);
    expect(peek.error?.name).toBe('ECONNREFUSED');
    const m = await a.sys.recvmsg(fd, { iov: [buf.subarray(0, 5)] }, C.MSG_ERRQUEUE);
    expect(m).toEqual({
      bytesRead: 5,
      address: { address: '10.0.1.2', port: 9 },
      flags: C.MSG_ERRQUEUE | C.MSG_TRUNC,
      error: { errno: 111, name: 'ECONNREFUSED', origin: C.SO_EE_ORIGIN_ICMP, icmpType: 3, icmpCode: 3, info: 0, data: 0, offender: '10.0.1.2' },
    });
    expect(new TextDecoder().decode(buf.subarray(0, 5))).toBe('knock');
    // Reading the queue clears SO_ERROR when nothing else is queued (Linux sock_dequeue_err_skb).
    expect(a.sys.getsockopt(fd, C.SOL_SOCKET, C.SO_ERROR)).toBe(0);
    expect(await errnoOf(a.sys.recvmsg(fd, { iov: [buf] }, C.MSG_ERRQUEUE))).toBe('recvmsg EAGAIN');
  });

  it('without IP_RECVERR nothing is queued', async () => {
    const { clock, a } = routed();
    const fd = a.sys.socket(C.AF_INET, C.SOCK_DGRAM, 0);
    await a.sys.sendto(fd, Uint8Array.of(1), 0, { address: '10.0.1.2', port: 9 });
    await run(clock, 20);
    expect(await errnoOf(a.sys.recvmsg(fd, { iov: [new Uint8Array(8)] }, C.MSG_ERRQUEUE))).toBe('recvmsg EAGAIN');
    expect(a.sys.getsockopt(fd, C.SOL_SOCKET, C.SO_ERROR)).toBe(0);
  });
});
