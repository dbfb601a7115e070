/**
 * RFC 9293 Appendix B MUSTs that need the whole stack: addresses chosen and
 * checked by IP, IP options, ICMP, TTL and Diffserv, and what an application
 * sees through `stack.sys`. Each test runs stacks on a MemoryNetwork in
 * virtual time; every frame a host sends is recorded, and a "tap" port
 * injects crafted ones (as an attacker or a router on the LAN would).
 * Connection-level MUSTs are in src/tcp/rfc9293-musts.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { isSocketError } from '../src/errno/socket-error.js';
import type { FrameHandler, Link } from '../src/link/link.js';
import { MemoryNetwork } from '../src/link/memory.js';
import type { MemoryLink } from '../src/link/memory.js';
import { VirtualClock } from '../src/sim/virtual-clock.js';
import { Stack } from '../src/stack/stack.js';
import { constants as C } from '../src/syscall/constants.js';
import type { Syscalls } from '../src/syscall/syscalls.js';
import { Duration } from '../src/time/duration.js';
import type { Instant } from '../src/time/instant.js';
import { ipv4 } from '../src/wire/address.js';
import type { Ipv4Address } from '../src/wire/address.js';
import { EtherType, emitEthernetHeader, parseEthernet } from '../src/wire/ethernet.js';
import { Icmpv4Type, emitIcmpv4, icmpv4BufferLen } from '../src/wire/icmpv4.js';
import type { Icmpv4Repr } from '../src/wire/icmpv4.js';
import { IpProtocol, emitIpv4, ipv4BufferLen, parseIpv4 } from '../src/wire/ipv4.js';
import type { Ipv4Repr } from '../src/wire/ipv4.js';
import { TcpFlag, emitTcp, parseTcp, tcpBufferLen } from '../src/wire/tcp.js';
import type { TcpRepr } from '../src/wire/tcp.js';

interface Host {
  readonly stack: Stack;
  readonly sys: Syscalls;
  readonly link: MemoryLink;
  readonly addr: Ipv4Address;
}

interface Captured {
  readonly at: Instant;
  readonly ip: Ipv4Repr;
  readonly tcp: TcpRepr | undefined;
  /** The IP datagram, for quoting in ICMP errors. */
  readonly datagram: Uint8Array;
}

/** Wraps a host's link and shows every frame the host sends to `record`. */
class RecordingLink implements Link {
  readonly linkType;
  readonly mtu;
  readonly mac;
  constructor(
    readonly inner: MemoryLink,
    readonly record: (frame: Uint8Array) => void,
  ) {
    this.linkType = inner.linkType;
    this.mtu = inner.mtu;
    this.mac = inner.mac;
  }
  get trusted(): boolean {
    return this.inner.trusted;
  }
  send(frame: Uint8Array): void {
    this.record(frame);
    this.inner.send(frame);
  }
  setReceiver(handler: FrameHandler | undefined): void {
    this.inner.setReceiver(handler);
  }
  close(): void {
    this.inner.close();
  }
}

class Lan {
  readonly clock = new VirtualClock({ maxTime: Duration.fromSecs(86_400) as number as Instant });
  readonly net: MemoryNetwork;
  readonly hosts: Host[] = [];
  readonly tap: MemoryLink;
  readonly frames: Captured[] = [];

  constructor(n = 2, opts: { untrusted?: boolean } = {}) {
    // An untrusted wire: stacks compute and verify checksums as on a real one.
    this.net = new MemoryNetwork({ clock: this.clock, seed: 3, latency: Duration.fromMillis(1), trusted: opts.untrusted !== true });
    for (let i = 0; i < n; i++) {
      const stack = new Stack({ clock: this.clock, seed: 100 + i });
      const link = this.net.attach({ name: `h${i + 1}` });
      stack.addInterface(new RecordingLink(link, (f) => this.#record(f)), { address: `10.0.0.${i + 1}/24` });
      this.hosts.push({ stack, sys: stack.sys, link, addr: ipv4(`10.0.0.${i + 1}`) });
    }
    this.tap = this.net.attach({ name: 'tap' });
  }

  #record(frame: Uint8Array): void {
    {
      const eth = parseEthernet(frame);
      if (!eth.ok || eth.value.ethertype !== EtherType.Ipv4) return;
      const ip = parseIpv4(eth.value.payload, { verifyChecksum: false });
      if (!ip.ok) return;
      const datagram = eth.value.payload.slice(0, ipv4BufferLen(ip.value));
      const copy = parseIpv4(datagram, { verifyChecksum: false });
      if (!copy.ok) return;
      const tcp = copy.value.protocol === IpProtocol.Tcp ? parseTcp(copy.value.payload) : undefined;
      this.frames.push({ at: this.clock.now(), ip: copy.value, tcp: tcp?.ok === true ? tcp.value : undefined, datagram });
    }
  }

  sleep(ms: number): Promise<void> {
    return this.clock.sleep(Duration.fromMillis(ms));
  }

  /** TCP segments captured since `from` (an index into frames), optionally only from one address. */
  tcp(from = 0, src?: Ipv4Address): (Captured & { tcp: TcpRepr })[] {
    return this.frames.slice(from).filter((f): f is Captured & { tcp: TcpRepr } => f.tcp !== undefined && (src === undefined || f.ip.src === src));
  }

  /** Sends an IPv4 datagram from the tap to host `to`'s MAC (or to Ethernet broadcast). */
  injectIp(to: Host | 'broadcast', ip: Omit<Ipv4Repr, 'ttl' | 'dscp' | 'ecn' | 'identification' | 'dontFragment' | 'moreFragments' | 'fragmentOffset' | 'options'> & Partial<Ipv4Repr>): void {
    const repr: Ipv4Repr = { ttl: 64, dscp: 0, ecn: 0, identification: 1, dontFragment: false, moreFragments: false, fragmentOffset: 0, options: new Uint8Array(0), ...ip };
    const frame = new Uint8Array(14 + ipv4BufferLen(repr));
    emitEthernetHeader({ dst: to === 'broadcast' ? 0xffff_ffff_ffff : to.link.mac, src: this.tap.mac, ethertype: EtherType.Ipv4 }, frame);
    emitIpv4(repr, frame.subarray(14));
    this.tap.send(frame);
  }

  /** A TCP segment from `src` to `dst` with a correct checksum (unless `corrupt`). */
  injectTcp(to: Host | 'broadcast', src: Ipv4Address, dst: Ipv4Address, seg: Partial<TcpRepr>, opts: { options?: Uint8Array; corrupt?: boolean } = {}): void {
    const repr: TcpRepr = { srcPort: 33333, dstPort: 80, seq: 1000, ack: 0, flags: TcpFlag.SYN, window: 8192, urgentPointer: 0, options: [], payload: new Uint8Array(0), ...seg };
    const payload = new Uint8Array(tcpBufferLen(repr));
    emitTcp(repr, payload, { src, dst });
    if (opts.corrupt === true) payload[payload.length - 1]! ^= 0x10;
    this.injectIp(to, { src, dst, protocol: IpProtocol.Tcp, payload, ...(opts.options === undefined ? {} : { options: opts.options }) });
  }

  /** An ICMP error from `from` to host `to`, quoting `datagram`. */
  injectIcmp(to: Host, from: Ipv4Address, type: number, code: number, datagram: Uint8Array): void {
    const quoted = datagram.subarray(0, Math.min(datagram.length, 28 + 32));
    let repr: Icmpv4Repr;
    if (type === Icmpv4Type.DestinationUnreachable) repr = { type, code, nextHopMtu: 0, quoted };
    else if (type === Icmpv4Type.TimeExceeded) repr = { type, code, quoted };
    else repr = { type, code, rest: 0, data: quoted };
    const payload = new Uint8Array(icmpv4BufferLen(repr));
    emitIcmpv4(repr, payload);
    this.injectIp(to, { src: from, dst: to.addr, protocol: IpProtocol.Icmp, payload });
  }

  close(): void {
    for (const h of this.hosts) h.stack.close();
  }
}

let open: Lan[] = [];
function lan(n = 2, opts: { untrusted?: boolean } = {}): Lan {
  const l = new Lan(n, opts);
  open.push(l);
  return l;
}
afterEach(() => {
  for (const l of open) l.close();
  open = [];
});

async function errnoOf(f: () => unknown): Promise<string> {
  try {
    await f();
  } catch (e) {
    if (isSocketError(e)) return e.code;
    throw e;
  }
  return 'ok';
}

function listener(h: Host, port: number, address: string = C.INADDR_ANY): number {
  const fd = h.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
  h.sys.setsockopt(fd, C.SOL_SOCKET, C.SO_REUSEADDR, 1);
  h.sys.bind(fd, { address, port });
  h.sys.listen(fd, 16);
  return fd;
}

async function connectPair(client: Host, server: Host, port: number, bindAddress?: string): Promise<{ cli: number; srv: number; lfd: number }> {
  const lfd = listener(server, port);
  const cli = client.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
  if (bindAddress !== undefined) client.sys.bind(cli, { address: bindAddress, port: 0 });
  const acc = server.sys.accept(lfd);
  await client.sys.connect(cli, { address: `10.0.0.${server.addr & 0xff}`, port });
  const { fd: srv } = await acc;
  return { cli, srv, lfd };
}

const enc = new TextEncoder();

async function echoOnce(l: Lan, from: Host, fromFd: number, to: Host, toFd: number, text: string): Promise<string> {
  await from.sys.write(fromFd, enc.encode(text));
  const buf = new Uint8Array(1000);
  const n = await to.sys.read(toFd, buf);
  await l.sleep(1);
  return new TextDecoder().decode(buf.subarray(0, n));
}

describe('RFC 9293 MUSTs through the stack: checksums', () => {
  it('MUST-2: every segment a stack sends on an untrusted link carries a valid checksum', async () => {
    const l = lan(2, { untrusted: true });
    const [a, b] = [l.hosts[0]!, l.hosts[1]!];
    const { cli, srv } = await connectPair(a, b, 80);
    expect(await echoOnce(l, a, cli, b, srv, 'hello')).toBe('hello');
    a.sys.close(cli);
    b.sys.close(srv);
    await l.sleep(100);
    const segs = l.tcp();
    expect(segs.length).toBeGreaterThanOrEqual(7);
    for (const f of segs) expect(parseTcp(f.ip.payload, { src: f.ip.src, dst: f.ip.dst }).ok).toBe(true);
  });

  it('MUST-3: a segment with a bad checksum is dropped and counted; the same segment intact is answered', async () => {
    const l = lan(2, { untrusted: true });
    const [a, b] = [l.hosts[0]!, l.hosts[1]!];
    listener(a, 80);
    l.injectTcp(a, b.addr, a.addr, { flags: TcpFlag.SYN }, { corrupt: true });
    await l.sleep(20);
    expect(l.tcp(0, a.addr)).toHaveLength(0);
    expect(a.stack.stats.get('tcp.in-csum-errors')).toBe(1);
    l.injectTcp(a, b.addr, a.addr, { flags: TcpFlag.SYN });
    await l.sleep(20);
    const synAck = l.tcp(0, a.addr)[0]!;
    expect(synAck.tcp.flags).toBe(TcpFlag.SYN | TcpFlag.ACK);
    expect(synAck.tcp.ack).toBe(1001);
  });
});

describe('RFC 9293 MUSTs through the stack: opening connections and addresses', () => {
  it('MUST-41/42: listen() on a port whose other socket is in SYN-SENT works, and leaves that connection alone', async () => {
    const l = lan(3);
    const [a, b, c] = [l.hosts[0]!, l.hosts[1]!, l.hosts[2]!];
    const lb = listener(b, 80);
    const fd1 = a.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    a.sys.setsockopt(fd1, C.SOL_SOCKET, C.SO_REUSEADDR, 1);
    a.sys.bind(fd1, { address: C.INADDR_ANY, port: 5000 });
    const connecting = a.sys.connect(fd1, { address: '10.0.0.2', port: 80 });
    // fd1 is in SYN-SENT now (nothing has been delivered yet).
    const stateOf = (fd: number) => (a.sys.getsockopt(fd, C.IPPROTO_TCP, C.TCP_INFO) as { stateName: string }).stateName;
    expect(stateOf(fd1)).toBe('SYN-SENT');
    const lfd = listener(a, 5000);
    expect(stateOf(fd1)).toBe('SYN-SENT');
    const acc = a.sys.accept(lfd);
    await connecting;
    const { fd: peer } = await b.sys.accept(lb);
    expect(stateOf(fd1)).toBe('ESTABLISHED');
    expect(a.sys.getsockname(fd1)).toEqual({ address: '10.0.0.1', port: 5000 });
    // The listener on the same port takes a connection from a third host.
    const fd3 = c.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    await c.sys.connect(fd3, { address: '10.0.0.1', port: 5000 });
    const { fd: srv3, address } = await acc;
    expect(address.address).toBe('10.0.0.3');
    // Both connections carry their own data.
    expect(await echoOnce(l, a, fd1, b, peer, 'one')).toBe('one');
    expect(await echoOnce(l, c, fd3, a, srv3, 'three')).toBe('three');
  });

  it('MUST-43/45: a local address given before connect is the source of every segment of the connection', async () => {
    const l = lan(2);
    const [a, b] = [l.hosts[0]!, l.hosts[1]!];
    a.stack.addAddress(a.stack.interfaces[1]!, '10.0.0.11/24');
    const { cli, srv } = await connectPair(a, b, 80, '10.0.0.11');
    expect(a.sys.getsockname(cli).address).toBe('10.0.0.11');
    expect(b.sys.getpeername(srv).address).toBe('10.0.0.11');
    expect(await echoOnce(l, a, cli, b, srv, 'x')).toBe('x');
    a.sys.close(cli);
    await l.sleep(50);
    const fromA = l.tcp().filter((f) => f.tcp.dstPort === 80);
    expect(fromA.length).toBeGreaterThanOrEqual(4);
    expect(fromA.every((f) => f.ip.src === ipv4('10.0.0.11'))).toBe(true);
  });

  it('MUST-44/45: without a local address, IP picks the source for the SYN; a passive connection answers from the address it was called at', async () => {
    const l = lan(2);
    const [a, b] = [l.hosts[0]!, l.hosts[1]!];
    // Unbound connects: the route decides (loopback for 127.0.0.1, the LAN address otherwise).
    const lo = listener(a, 7);
    const fdLo = a.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    await a.sys.connect(fdLo, { address: '127.0.0.1', port: 7 });
    expect(a.sys.getsockname(fdLo).address).toBe('127.0.0.1');
    await a.sys.accept(lo);
    const { cli } = await connectPair(a, b, 80);
    expect(a.sys.getsockname(cli).address).toBe('10.0.0.1');
    // Passive side: a listener on INADDR_ANY called at a secondary address replies from it.
    b.stack.addAddress(b.stack.interfaces[1]!, '10.0.0.22/24');
    const lfd = listener(b, 8080);
    const mark = l.frames.length;
    const fd = a.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    const acc = b.sys.accept(lfd);
    await a.sys.connect(fd, { address: '10.0.0.22', port: 8080 });
    const { fd: srv } = await acc;
    expect(b.sys.getsockname(srv).address).toBe('10.0.0.22');
    expect(await echoOnce(l, b, srv, a, fd, 'reply')).toBe('reply');
    const fromB = l.tcp(mark).filter((f) => f.tcp.srcPort === 8080);
    expect(fromB.length).toBeGreaterThanOrEqual(2);
    expect(fromB.every((f) => f.ip.src === ipv4('10.0.0.22'))).toBe(true);
  });

  it('MUST-46: connect() to a broadcast or multicast address fails (ENETUNREACH), to an invalid address with EINVAL', async () => {
    const l = lan(1);
    const a = l.hosts[0]!;
    for (const address of ['10.0.0.255', '255.255.255.255', '224.0.0.1', '239.1.2.3']) {
      const fd = a.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
      expect(await errnoOf(() => a.sys.connect(fd, { address, port: 80 }))).toBe('ENETUNREACH');
    }
    const fd = a.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    expect(await errnoOf(() => a.sys.connect(fd, { address: '10.0.0.256', port: 80 }))).toBe('EINVAL');
    await l.sleep(10);
    expect(l.tcp()).toHaveLength(0);
  });

  it('MUST-57: segments and SYNs sent to a broadcast or multicast address are silently discarded', async () => {
    const l = lan(2);
    const [a, b] = [l.hosts[0]!, l.hosts[1]!];
    listener(a, 80);
    // A SYN to the subnet broadcast and to 255.255.255.255 (Ethernet broadcast), and to a multicast group.
    l.injectTcp('broadcast', b.addr, ipv4('10.0.0.255'), { flags: TcpFlag.SYN });
    l.injectTcp('broadcast', b.addr, ipv4('255.255.255.255'), { flags: TcpFlag.SYN });
    l.injectTcp('broadcast', b.addr, ipv4('10.0.0.255'), { flags: TcpFlag.ACK, ack: 5 });
    l.injectTcp(a, b.addr, ipv4('224.0.0.1'), { flags: TcpFlag.SYN });
    await l.sleep(50);
    expect(l.tcp(0, a.addr)).toHaveLength(0);
    // 224.0.0.1 (all systems) is a group every host is in: IP delivers it, TCP drops it.
    expect(a.stack.stats.get('tcp.drop.broadcast')).toBe(4);
    // The same SYN to the host's own address is answered.
    l.injectTcp(a, b.addr, a.addr, { flags: TcpFlag.SYN });
    await l.sleep(20);
    expect(l.tcp(0, a.addr)).toHaveLength(1);
  });

  it('MUST-63: a SYN from a broadcast or multicast source address is rejected', async () => {
    const l = lan(1);
    const a = l.hosts[0]!;
    listener(a, 80);
    for (const src of ['10.0.0.255', '255.255.255.255', '224.1.2.3']) l.injectTcp(a, ipv4(src), a.addr, { flags: TcpFlag.SYN });
    await l.sleep(50);
    expect(l.tcp(0, a.addr)).toHaveLength(0);
    expect(a.stack.stats.get('tcp.passive-opens')).toBe(0);
    expect(a.stack.stats.get('ip.in-addr-errors')).toBe(3);
  });
});

describe('RFC 9293 MUSTs through the stack: IP', () => {
  it('MUST-48: the application sets the Diffserv field (IP_TOS) of what a connection sends', async () => {
    const l = lan(2);
    const [a, b] = [l.hosts[0]!, l.hosts[1]!];
    const { cli, srv } = await connectPair(a, b, 80);
    a.sys.setsockopt(cli, C.IPPROTO_IP, C.IP_TOS, 0xb8);
    expect(a.sys.getsockopt(cli, C.IPPROTO_IP, C.IP_TOS)).toBe(0xb8);
    const mark = l.frames.length;
    expect(await echoOnce(l, a, cli, b, srv, 'ef')).toBe('ef');
    const sent = l.tcp(mark, a.addr);
    expect(sent.length).toBeGreaterThan(0);
    for (const f of sent) expect((f.ip.dscp << 2) | f.ip.ecn).toBe(0xb8);
    // The other direction keeps the default.
    expect(l.tcp(mark, b.addr).length).toBeGreaterThan(0);
    expect(l.tcp(mark, b.addr).every((f) => f.ip.dscp === 0)).toBe(true);
  });

  it('MUST-49: the TTL is configurable (IP_TTL), 64 by default', async () => {
    const l = lan(2);
    const [a, b] = [l.hosts[0]!, l.hosts[1]!];
    const { cli, srv } = await connectPair(a, b, 80);
    expect(l.tcp(0, a.addr).length).toBeGreaterThan(0);
    expect(l.tcp(0, a.addr).every((f) => f.ip.ttl === 64)).toBe(true);
    a.sys.setsockopt(cli, C.IPPROTO_IP, C.IP_TTL, 7);
    const mark = l.frames.length;
    expect(await echoOnce(l, a, cli, b, srv, 'ttl')).toBe('ttl');
    const sent = l.tcp(mark, a.addr);
    expect(sent.length).toBeGreaterThan(0);
    for (const f of sent) expect(f.ip.ttl).toBe(7);
  });

  it('MUST-50: IP options TCP does not understand are ignored: a SYN carrying them is answered', async () => {
    const l = lan(2);
    const [a, b] = [l.hosts[0]!, l.hosts[1]!];
    listener(a, 80);
    // Router Alert (RFC 2113), an unassigned option type 0x9e with 2 data bytes, NOP, EOL, padding.
    const options = Uint8Array.from([0x94, 0x04, 0x00, 0x00, 0x9e, 0x04, 0xab, 0xcd, 0x01, 0x00, 0x00, 0x00]);
    l.injectTcp(a, b.addr, a.addr, { flags: TcpFlag.SYN, seq: 77 }, { options });
    await l.sleep(20);
    const reply = l.tcp(0, a.addr)[0]!;
    expect(reply.tcp.flags).toBe(TcpFlag.SYN | TcpFlag.ACK);
    expect(reply.tcp.ack).toBe(78);
  });
});

describe('RFC 9293 MUSTs through the stack: ICMP and error reports', () => {
  /** An established pair and the last segment a sent (its sequence number is SND.UNA: "in flight" for ICMP checks). */
  async function established(l: Lan) {
    const [a, b] = [l.hosts[0]!, l.hosts[1]!];
    const { cli, srv } = await connectPair(a, b, 80);
    expect(await echoOnce(l, a, cli, b, srv, 'warm-up')).toBe('warm-up');
    expect(await echoOnce(l, b, srv, a, cli, 'ack it')).toBe('ack it');
    await l.sleep(100);
    const last = l.tcp(0, a.addr).at(-1)!;
    return { a, b, cli, srv, last };
  }

  it('MUST-54: TCP acts on ICMP messages: port unreachable refuses a connection attempt', async () => {
    const l = lan(2);
    const [a, b] = [l.hosts[0]!, l.hosts[1]!];
    // b drops a's SYN (its link is unplugged after ARP), and a router says the port is unreachable.
    await a.stack.ping('10.0.0.2');
    b.link.setEnabled(false);
    const fd = a.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    const p = errnoOf(() => a.sys.connect(fd, { address: '10.0.0.2', port: 9 }));
    await l.sleep(5);
    const syn = l.tcp(0, a.addr).find((f) => f.tcp.flags === TcpFlag.SYN)!;
    l.injectIcmp(a, ipv4('10.0.0.254'), Icmpv4Type.DestinationUnreachable, 3, syn.datagram);
    expect(await p).toBe('ECONNREFUSED');
  });

  it('MUST-55: Source Quench is silently discarded', async () => {
    const l = lan(2);
    const { a, b, cli, srv, last } = await established(l);
    const cwnd = (a.sys.getsockopt(cli, C.IPPROTO_TCP, C.TCP_INFO) as { snd_cwnd: number }).snd_cwnd;
    for (let i = 0; i < 5; i++) l.injectIcmp(a, b.addr, Icmpv4Type.SourceQuench, 0, last.datagram);
    await l.sleep(10);
    expect(a.stack.stats.get('icmp.in-msgs')).toBeGreaterThanOrEqual(5);
    expect((a.sys.getsockopt(cli, C.IPPROTO_TCP, C.TCP_INFO) as { snd_cwnd: number }).snd_cwnd).toBe(cwnd);
    expect(a.sys.getsockopt(cli, C.SOL_SOCKET, C.SO_ERROR)).toBe(0);
    expect(await echoOnce(l, a, cli, b, srv, 'still here')).toBe('still here');
  });

  it('MUST-56/47: Dest Unreachable (0, 1, 5), Time Exceeded and Parameter Problem do not abort a connection; the error is reported if it then times out', async () => {
    const l = lan(2);
    const { a, b, cli, srv, last } = await established(l);
    const errors: [number, number][] = [
      [Icmpv4Type.DestinationUnreachable, 0],
      [Icmpv4Type.DestinationUnreachable, 1],
      [Icmpv4Type.DestinationUnreachable, 5],
      [Icmpv4Type.TimeExceeded, 0],
      [Icmpv4Type.ParameterProblem, 0],
      [Icmpv4Type.DestinationUnreachable, 1],
    ];
    for (const [type, code] of errors) l.injectIcmp(a, ipv4('10.0.0.254'), type, code, last.datagram);
    await l.sleep(10);
    // All were believed (they quote SND.UNA), none aborted anything.
    expect(a.stack.stats.get('tcp.out-of-window-icmps')).toBe(0);
    expect(a.sys.getsockopt(cli, C.SOL_SOCKET, C.SO_ERROR)).toBe(0);
    expect(await echoOnce(l, a, cli, b, srv, 'alive')).toBe('alive');
    expect(await echoOnce(l, b, srv, a, cli, 'both ways')).toBe('both ways');
    // MUST-47: should the connection then fail, the application learns the last ICMP error, not just ETIMEDOUT.
    a.sys.setsockopt(cli, C.IPPROTO_TCP, C.TCP_USER_TIMEOUT, 3000);
    b.link.setEnabled(false);
    await a.sys.write(cli, enc.encode('lost'));
    expect(await errnoOf(() => a.sys.read(cli, new Uint8Array(10)))).toBe('EHOSTUNREACH');
  });

  it('MUST-47/12: a refused connection and a reset connection are reported to the application', async () => {
    const l = lan(2);
    const [a, b] = [l.hosts[0]!, l.hosts[1]!];
    const fd = a.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    expect(await errnoOf(() => a.sys.connect(fd, { address: '10.0.0.2', port: 81 }))).toBe('ECONNREFUSED');
    const { cli, srv } = await connectPair(a, b, 80);
    b.sys.setsockopt(srv, C.SOL_SOCKET, C.SO_LINGER, { onoff: 1, linger: 0 });
    b.sys.close(srv);
    await l.sleep(10);
    expect(await errnoOf(() => a.sys.read(cli, new Uint8Array(10)))).toBe('ECONNRESET');
  });
});

describe('RFC 9293 MUSTs through the stack: urgent data', () => {
  it('MUST-32: the application learns of urgent data asynchronously (poll POLLPRI); as on Linux the last urgent byte is read out of band', async () => {
    const l = lan(2);
    const [a, b] = [l.hosts[0]!, l.hosts[1]!];
    const { cli, srv } = await connectPair(a, b, 80);
    const polled = b.sys.poll([{ fd: srv, events: C.POLLPRI }], -1);
    await a.sys.send(cli, enc.encode('abc'), 0);
    await a.sys.send(cli, enc.encode('!'), C.MSG_OOB);
    const [r] = await polled;
    expect((r!.revents & C.POLLPRI) !== 0).toBe(true);
    await l.sleep(10);
    const buf = new Uint8Array(10);
    // The read stops at the urgent mark; the urgent byte itself comes with MSG_OOB
    // (SO_OOBINLINE off, Linux's default; src/tcp/tcp-socket-linux.test.ts has the rest).
    const n = await b.sys.read(srv, buf);
    expect(new TextDecoder().decode(buf.subarray(0, n))).toBe('abc');
    expect(await b.sys.recv(srv, buf, C.MSG_OOB)).toBe(1);
    expect(buf[0]).toBe(0x21);
  });
});
