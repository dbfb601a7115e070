import { describe, expect, it } from 'vitest';
import { isSocketError } from '../errno/socket-error.js';
import type { ErrnoName } from '../errno/errno.js';
import { ManualClock } from '../time/manual-clock.js';
import { constants as C } from './constants.js';
import { errnoOf, track } from './outcome.fixtures.js';
import { FdTable } from './fd-table.js';
import { IN_PROGRESS, WOULD_BLOCK, raise } from './socket-handle.js';
import type { Accepted, Endpoint, RecvResult, SocketHandle, WouldBlock } from './socket-handle.js';
import { sockOptTable, socketLevelTable, mergeSockOptTables, tableGet, tableSet, SocketLevelOptions } from './sockopt.js';
import type { SockOptValue } from './sockopt.js';
import { Syscalls } from './syscalls.js';

/** A scriptable handle: a byte queue for recv, a connect that completes when told. */
class FakeHandle implements SocketHandle {
  readonly family = C.AF_INET;
  readonly protocol: number;
  readonly type: number;
  waker: (() => void) | undefined;
  inbox: Uint8Array[] = [];
  sent: Uint8Array[] = [];
  sendRoom = Infinity;
  error = 0;
  connecting = false;
  connected = false;
  closed = false;
  readonly so = new SocketLevelOptions();
  static readonly table = mergeSockOptTables(
    socketLevelTable<FakeHandle>((h) => h.so),
    sockOptTable<FakeHandle>({ [C.IPPROTO_TCP]: { [C.TCP_NODELAY]: { kind: 'int', get: () => 1, set: () => undefined } } }),
  );

  constructor(type: number, protocol: number) {
    this.type = type;
    this.protocol = protocol;
  }
  wake(): void {
    this.waker?.();
  }
  readiness(): number {
    let m = 0;
    if (this.inbox.length > 0) m |= C.POLLIN | C.POLLRDNORM;
    if (this.sendRoom > 0 && !this.connecting) m |= C.POLLOUT;
    if (this.error !== 0) m |= C.POLLERR;
    return m;
  }
  setWaker(w: (() => void) | undefined): void {
    this.waker = w;
  }
  bind(): void {}
  connect(): void | typeof IN_PROGRESS {
    if (this.type === C.SOCK_DGRAM) return;
    if (this.connecting) raise('EALREADY');
    if (this.connected) raise('EISCONN');
    this.connecting = true;
    return IN_PROGRESS;
  }
  finishConnect(err = 0): void {
    this.connecting = false;
    this.connected = err === 0;
    this.error = err;
    this.wake();
  }
  listen(): void {}
  accept(): Accepted | WouldBlock {
    return WOULD_BLOCK;
  }
  send(data: readonly Uint8Array[]): number | WouldBlock {
    if (this.sendRoom <= 0) return WOULD_BLOCK;
    let n = 0;
    for (const d of data) {
      const take = Math.min(d.length, this.sendRoom - n);
      this.sent.push(d.slice(0, take));
      n += take;
    }
    this.sendRoom -= n;
    return n;
  }
  recv(buffers: readonly Uint8Array[], flags: number): RecvResult | WouldBlock {
    const head = this.inbox[0];
    if (head === undefined) return WOULD_BLOCK;
    const buf = buffers[0]!;
    const n = Math.min(buf.length, head.length);
    buf.set(head.subarray(0, n));
    if ((flags & C.MSG_PEEK) === 0) {
      if (n === head.length) this.inbox.shift();
      else this.inbox[0] = head.subarray(n);
    }
    return { bytesRead: n, from: undefined, flags: 0 };
  }
  shutdown(): void {}
  close(): void {
    this.closed = true;
  }
  localEndpoint(): Endpoint {
    return { address: 0, port: 0 };
  }
  remoteEndpoint(): Endpoint | undefined {
    return this.connected ? { address: 0x0a000002, port: 80 } : undefined;
  }
  takeError(): number {
    const e = this.error;
    this.error = 0;
    return e;
  }
  getsockopt(level: number, name: number): SockOptValue {
    return tableGet(FakeHandle.table, this, level, name);
  }
  setsockopt(level: number, name: number, value: SockOptValue): void {
    tableSet(FakeHandle.table, this, level, name, value);
  }
}

function setup(opts: { rlimitNofile?: number } = {}) {
  const clock = new ManualClock();
  const sys = new Syscalls({ clock, ...opts });
  const handles: FakeHandle[] = [];
  for (const [type, protocol] of [
    [C.SOCK_STREAM, C.IPPROTO_TCP],
    [C.SOCK_DGRAM, C.IPPROTO_UDP],
  ] as const) {
    sys.registerProtocol({
      family: C.AF_INET,
      type,
      protocol,
      create: () => {
        const h = new FakeHandle(type, protocol);
        handles.push(h);
        return h;
      },
    });
  }
  return { clock, sys, handles };
}

const flush = async () => {
  for (let i = 0; i < 3; i++) await new Promise<void>((r) => setTimeout(r, 0));
};

describe('constants', () => {
  it('has Linux values', () => {
    expect([C.AF_INET, C.AF_INET6, C.SOCK_STREAM, C.SOCK_DGRAM, C.SOCK_NONBLOCK, C.SOCK_CLOEXEC]).toEqual([
      2, 10, 1, 2, 0o4000, 0o2000000,
    ]);
    expect([C.SOL_SOCKET, C.SO_REUSEADDR, C.SO_ERROR, C.SO_BROADCAST, C.SO_RCVBUF, C.SO_REUSEPORT, C.SO_RCVTIMEO]).toEqual([
      1, 2, 4, 6, 8, 15, 20,
    ]);
    expect([C.IP_TTL, C.IP_TOS, C.IP_RECVERR, C.IP_MULTICAST_TTL, C.IP_ADD_MEMBERSHIP]).toEqual([2, 1, 11, 33, 35]);
    expect([C.MSG_PEEK, C.MSG_TRUNC, C.MSG_DONTWAIT, C.MSG_WAITALL, C.MSG_NOSIGNAL]).toEqual([2, 0x20, 0x40, 0x100, 0x4000]);
    expect([C.POLLIN, C.POLLOUT, C.POLLERR, C.POLLHUP, C.POLLNVAL, C.POLLRDHUP]).toEqual([1, 4, 8, 16, 32, 0x2000]);
    expect([C.F_GETFL, C.F_SETFL, C.O_NONBLOCK, C.TCP_NODELAY, C.TCP_CONGESTION]).toEqual([3, 4, 0o4000, 1, 13]);
    expect(Object.isFrozen(C)).toBe(true);
  });
});

describe('FdTable', () => {
  it('hands out the lowest free descriptor from 3 and enforces the limit', () => {
    const t = new FdTable<string>({ limit: 6 });
    expect([t.allocate('a'), t.allocate('b'), t.allocate('c')]).toEqual([3, 4, 5]);
    expect(() => t.allocate('d')).toThrow();
    t.remove(4);
    expect(t.peekFree()).toBe(4);
    expect(t.allocate('e')).toBe(4);
    t.remove(3);
    t.remove(5);
    expect(t.allocate('f')).toBe(3);
    expect(t.get(5)).toBeUndefined();
    expect(t.get(-1)).toBeUndefined();
    expect(t.get(1.5)).toBeUndefined();
    expect([...t.entries()].map(([fd]) => fd)).toEqual([3, 4]);
    expect(new FdTable<number>({ firstFd: 0 }).allocate(1)).toBe(0);
  });
});

describe('socket()', () => {
  it('validates domain, type and protocol like Linux inet_create', async () => {
    const { sys } = setup();
    expect(sys.socket(C.AF_INET, C.SOCK_STREAM, 0)).toBe(3);
    expect(sys.socket(C.AF_INET, C.SOCK_DGRAM, C.IPPROTO_UDP)).toBe(4);
    expect(await errnoOf(() => sys.socket(C.AF_INET6, C.SOCK_DGRAM, 0))).toBe('socket EAFNOSUPPORT');
    expect(await errnoOf(() => sys.socket(C.AF_UNIX, C.SOCK_STREAM, 0))).toBe('socket EAFNOSUPPORT');
    expect(await errnoOf(() => sys.socket(C.AF_INET, C.SOCK_SEQPACKET, 0))).toBe('socket ESOCKTNOSUPPORT');
    expect(await errnoOf(() => sys.socket(C.AF_INET, C.SOCK_DGRAM, C.IPPROTO_TCP))).toBe('socket EPROTONOSUPPORT');
    expect(await errnoOf(() => sys.socket(C.AF_INET, 0, 0))).toBe('socket EINVAL');
    expect(await errnoOf(() => sys.socket(C.AF_INET, 12, 0))).toBe('socket EINVAL');
    expect(await errnoOf(() => sys.socket(C.AF_INET, C.SOCK_DGRAM | 0x10000, 0))).toBe('socket EINVAL');
    expect(await errnoOf(() => sys.socket(C.AF_INET, C.SOCK_DGRAM, 256))).toBe('socket EINVAL');
    expect(() => sys.socket('2' as unknown as number, C.SOCK_DGRAM)).toThrow(TypeError);
  });

  it('SOCK_NONBLOCK and SOCK_CLOEXEC set the file flags', () => {
    const { sys } = setup();
    const fd = sys.socket(C.AF_INET, C.SOCK_DGRAM | C.SOCK_NONBLOCK | C.SOCK_CLOEXEC, 0);
    expect(sys.fcntl(fd, C.F_GETFL)).toBe(C.O_RDWR | C.O_NONBLOCK);
    expect(sys.fcntl(fd, C.F_GETFD)).toBe(C.FD_CLOEXEC);
    sys.fcntl(fd, C.F_SETFL, 0);
    sys.fcntl(fd, C.F_SETFD, 0);
    expect(sys.fcntl(fd, C.F_GETFL)).toBe(C.O_RDWR);
    expect(sys.fcntl(fd, C.F_GETFD)).toBe(0);
    expect(() => sys.fcntl(fd, 999)).toThrow(/fcntl EINVAL/);
  });

  it('EMFILE at RLIMIT_NOFILE; closing frees the lowest number', async () => {
    const { sys } = setup({ rlimitNofile: 5 });
    expect([sys.socket(C.AF_INET, C.SOCK_DGRAM), sys.socket(C.AF_INET, C.SOCK_DGRAM)]).toEqual([3, 4]);
    expect(await errnoOf(() => sys.socket(C.AF_INET, C.SOCK_DGRAM))).toBe('socket EMFILE');
    sys.close(3);
    expect(sys.socket(C.AF_INET, C.SOCK_DGRAM)).toBe(3);
    sys.rlimitNofile = 6;
    expect(sys.socket(C.AF_INET, C.SOCK_DGRAM)).toBe(5);
    expect(sys.openFds()).toEqual([3, 4, 5]);
  });

  it('EBADF for descriptors that are not open, on every call', async () => {
    const { sys } = setup();
    const buf = new Uint8Array(4);
    const calls: [string, () => unknown][] = [
      ['bind', () => sys.bind(9, { address: '0.0.0.0', port: 1 })],
      ['listen', () => sys.listen(9, 1)],
      ['accept', () => sys.accept(9)],
      ['connect', () => sys.connect(9, { address: '10.0.0.1', port: 1 })],
      ['read', () => sys.read(9, buf)],
      ['write', () => sys.write(9, buf)],
      ['send', () => sys.send(9, buf, 0)],
      ['recv', () => sys.recv(9, buf, 0)],
      ['sendto', () => sys.sendto(9, buf, 0, { address: '10.0.0.1', port: 1 })],
      ['recvfrom', () => sys.recvfrom(9, buf, 0)],
      ['sendmsg', () => sys.sendmsg(9, { iov: [buf] }, 0)],
      ['recvmsg', () => sys.recvmsg(9, { iov: [buf] }, 0)],
      ['shutdown', () => sys.shutdown(9, C.SHUT_RDWR)],
      ['close', () => sys.close(9)],
      ['getsockname', () => sys.getsockname(9)],
      ['getpeername', () => sys.getpeername(9)],
      ['getsockopt', () => sys.getsockopt(9, C.SOL_SOCKET, C.SO_TYPE)],
      ['setsockopt', () => sys.setsockopt(9, C.SOL_SOCKET, C.SO_REUSEADDR, 1)],
      ['fcntl', () => sys.fcntl(9, C.F_GETFL)],
    ];
    for (const [name, call] of calls) expect(await errnoOf(call)).toBe(`${name} EBADF`);
  });

  it('wrong argument types are TypeErrors (our EFAULT), thrown synchronously', () => {
    const { sys } = setup();
    const fd = sys.socket(C.AF_INET, C.SOCK_DGRAM);
    expect(() => sys.read(fd, 'abc' as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => sys.send(fd, [1, 2] as unknown as Uint8Array, 0)).toThrow(TypeError);
    expect(() => sys.sendmsg(fd, { iov: [new Uint8Array(1), 'x' as unknown as Uint8Array] }, 0)).toThrow(TypeError);
    expect(() => sys.recvmsg(fd, {} as never, 0)).toThrow(TypeError);
    expect(() => sys.bind(fd, null as never)).toThrow(TypeError);
    expect(() => sys.bind(fd, { address: '0.0.0.0', port: 70000 })).toThrow(RangeError);
    expect(() => sys.setsockopt(fd, C.SOL_SOCKET, C.SO_RCVTIMEO, 5)).toThrow(TypeError);
    expect(() => sys.setsockopt(fd, C.SOL_SOCKET, C.SO_REUSEADDR, 'yes')).toThrow(TypeError);
    expect(() => sys.poll('x' as never, 0)).toThrow(TypeError);
    // A descriptor that is not an integer, even one naming the open fd: TypeError, not the file (Syscalls #file's table lookup first).
    for (const bad of [String(fd), fd + 0.5, [fd], null]) {
      expect(() => sys.getsockname(bad as never)).toThrow(TypeError);
      expect(() => sys.fcntl(bad as never, C.F_GETFL)).toThrow(TypeError);
    }
  });

  it('every call that returns a Promise throws a wrong argument type synchronously too (descriptor, address fields), as the others do', () => {
    const { sys } = setup();
    const fd = sys.socket(C.AF_INET, C.SOCK_DGRAM);
    const buf = new Uint8Array(1);
    const to = { address: '10.0.0.1', port: 1 };
    for (const bad of [String(fd), fd + 0.5, [fd], null] as never[]) {
      const calls: [string, () => unknown][] = [
        ['accept', () => sys.accept(bad)],
        ['connect', () => sys.connect(bad, to)],
        ['read', () => sys.read(bad, buf)],
        ['write', () => sys.write(bad, buf)],
        ['recv', () => sys.recv(bad, buf, 0)],
        ['send', () => sys.send(bad, buf, 0)],
        // Flags that take the general paths (transfer-calls.ts).
        ['recv MSG_WAITALL', () => sys.recv(bad, buf, C.MSG_WAITALL)],
        ['send MSG_OOB', () => sys.send(bad, buf, C.MSG_OOB)],
        ['recvfrom', () => sys.recvfrom(bad, buf, 0)],
        ['sendto', () => sys.sendto(bad, buf, 0, to)],
        ['recvmsg', () => sys.recvmsg(bad, { iov: [buf] }, 0)],
        ['sendmsg', () => sys.sendmsg(bad, { iov: [buf] }, 0)],
      ];
      for (const [name, call] of calls) expect(call, `${name}(${JSON.stringify(bad)})`).toThrow(TypeError);
    }
    // An address whose fields have the wrong type or range, as bind() throws them.
    expect(() => sys.connect(fd, { address: 7 as never, port: 1 })).toThrow(TypeError);
    expect(() => sys.sendto(fd, buf, 0, { address: '10.0.0.1', port: 70000 })).toThrow(RangeError);
    expect(() => sys.sendmsg(fd, { iov: [buf], name: { address: '10.0.0.1', port: '1' as never } }, 0)).toThrow(RangeError);
  });

  it('errnos of calls that return a Promise still reject: EBADF for a closed descriptor, EINVAL for unknown flags (MSG_WAITFORONE) or a bad address', async () => {
    const { sys } = setup();
    const fd = sys.socket(C.AF_INET, C.SOCK_DGRAM);
    const buf = new Uint8Array(1);
    expect(await errnoOf(() => sys.recvfrom(99, buf, 0))).toBe('recvfrom EBADF');
    expect(await errnoOf(() => sys.sendto(99, buf, 0, { address: '10.0.0.1', port: 1 }))).toBe('sendto EBADF');
    expect(await errnoOf(() => sys.recv(fd, buf, 0x1_0000))).toBe('recv EINVAL');
    expect(await errnoOf(() => sys.sendmsg(fd, { iov: [buf] }, 0x1_0000))).toBe('sendmsg EINVAL');
    expect(await errnoOf(() => sys.sendto(fd, buf, 0, { address: 'not-an-ip', port: 1 }))).toBe('sendto EINVAL');
    expect(await errnoOf(() => sys.connect(fd, { address: '::1', port: 1 }))).toBe('connect EAFNOSUPPORT');
  });

  it('bad addresses: EINVAL for garbage, EAFNOSUPPORT for IPv6 or a foreign family', async () => {
    const { sys } = setup();
    const fd = sys.socket(C.AF_INET, C.SOCK_DGRAM);
    expect(await errnoOf(() => sys.bind(fd, { address: 'not-an-ip', port: 1 }))).toBe('bind EINVAL');
    expect(await errnoOf(() => sys.bind(fd, { address: '::1', port: 1 }))).toBe('bind EAFNOSUPPORT');
    expect(await errnoOf(() => sys.bind(fd, { family: C.AF_INET6, address: '0.0.0.0', port: 1 }))).toBe(
      'bind EAFNOSUPPORT',
    );
    expect(await errnoOf(() => sys.bind(fd, { family: C.AF_UNSPEC, address: '10.0.0.1', port: 1 }))).toBe(
      'bind EAFNOSUPPORT',
    );
    expect(await errnoOf(sys.connect(fd, { address: '1.2.3', port: 1 }))).toBe('connect EINVAL');
  });

  it('error messages carry the call and the address', async () => {
    const { sys } = setup();
    const fd = sys.socket(C.AF_INET, C.SOCK_DGRAM);
    await expect(sys.sendto(fd, new Uint8Array(1), 0, { address: 'bogus', port: 53 })).rejects.toMatchObject({
      code: 'EINVAL',
      errno: -22,
      syscall: 'sendto',
      message: 'sendto EINVAL bogus:53',
    });
  });
});

describe('blocking machinery', () => {
  it('a blocked recv wakes when data arrives; no busy waiting (no timers armed)', async () => {
    const { sys, handles, clock } = setup();
    const fd = sys.socket(C.AF_INET, C.SOCK_STREAM);
    const buf = new Uint8Array(8);
    const p = track(sys.recv(fd, buf, 0));
    await flush();
    expect(p.settled()).toBe(false);
    expect(clock.pendingTimers).toBe(0);
    handles[0]!.inbox.push(Uint8Array.of(1, 2, 3));
    handles[0]!.wake();
    expect(await p.promise).toBe(3);
    expect([...buf.subarray(0, 3)]).toEqual([1, 2, 3]);
  });

  it('spurious wake-ups are harmless', async () => {
    const { sys, handles } = setup();
    const fd = sys.socket(C.AF_INET, C.SOCK_STREAM);
    const p = track(sys.read(fd, new Uint8Array(8)));
    handles[0]!.wake();
    handles[0]!.wake();
    await flush();
    expect(p.settled()).toBe(false);
    handles[0]!.inbox.push(Uint8Array.of(9));
    handles[0]!.wake();
    expect(await p.promise).toBe(1);
  });

  it('O_NONBLOCK and MSG_DONTWAIT fail at once with EAGAIN', async () => {
    const { sys } = setup();
    const fd = sys.socket(C.AF_INET, C.SOCK_STREAM);
    const buf = new Uint8Array(8);
    expect(await errnoOf(sys.recv(fd, buf, C.MSG_DONTWAIT))).toBe('recv EAGAIN');
    sys.fcntl(fd, C.F_SETFL, C.O_NONBLOCK);
    expect(await errnoOf(sys.read(fd, buf))).toBe('read EAGAIN');
    expect(await errnoOf(sys.recvmsg(fd, { iov: [buf] }, 0))).toBe('recvmsg EAGAIN');
    expect(await errnoOf(sys.accept(fd))).toBe('accept EAGAIN');
  });

  it('SO_RCVTIMEO expires in virtual time with EAGAIN; getsockopt returns the timeval', async () => {
    const { sys, clock } = setup();
    const fd = sys.socket(C.AF_INET, C.SOCK_DGRAM);
    expect(sys.getsockopt(fd, C.SOL_SOCKET, C.SO_RCVTIMEO)).toEqual({ sec: 0, usec: 0 });
    sys.setsockopt(fd, C.SOL_SOCKET, C.SO_RCVTIMEO, { sec: 1, usec: 500_000 });
    expect(sys.getsockopt(fd, C.SOL_SOCKET, C.SO_RCVTIMEO)).toEqual({ sec: 1, usec: 500_000 });
    const p = track(sys.recv(fd, new Uint8Array(4), 0));
    await flush();
    clock.advance(1_499_999 as never);
    await flush();
    expect(p.settled()).toBe(false);
    clock.advance(1 as never);
    expect(await errnoOf(p.promise)).toBe('recv EAGAIN');
    expect(clock.now()).toBe(1_500_000);
    expect(await errnoOf(() => sys.setsockopt(fd, C.SOL_SOCKET, C.SO_RCVTIMEO, { sec: 0, usec: 1_000_000 }))).toBe(
      'setsockopt EINVAL',
    );
    // A negative tv_sec is a zero timeout in Linux: fail at once.
    sys.setsockopt(fd, C.SOL_SOCKET, C.SO_RCVTIMEO, { sec: -1, usec: 0 });
    expect(await errnoOf(sys.recv(fd, new Uint8Array(4), 0))).toBe('recv EAGAIN');
    // {0,0} means "forever" again.
    sys.setsockopt(fd, C.SOL_SOCKET, C.SO_RCVTIMEO, { sec: 0, usec: 0 });
    expect(sys.getsockopt(fd, C.SOL_SOCKET, C.SO_RCVTIMEO)).toEqual({ sec: 0, usec: 0 });
  });

  it('SO_SNDTIMEO bounds a blocked send', async () => {
    const { sys, handles, clock } = setup();
    const fd = sys.socket(C.AF_INET, C.SOCK_DGRAM);
    handles[0]!.sendRoom = 0;
    sys.setsockopt(fd, C.SOL_SOCKET, C.SO_SNDTIMEO, { sec: 2, usec: 0 });
    const p = track(sys.send(fd, new Uint8Array(4), 0));
    await flush();
    clock.runUntilIdle();
    expect(await errnoOf(p.promise)).toBe('send EAGAIN');
    expect(clock.now()).toBe(2_000_000);
  });

  it('close() wakes blocked callers on that descriptor with EBADF and cancels their timers', async () => {
    const { sys, handles, clock } = setup();
    const fd = sys.socket(C.AF_INET, C.SOCK_DGRAM);
    sys.setsockopt(fd, C.SOL_SOCKET, C.SO_RCVTIMEO, { sec: 5, usec: 0 });
    const a = track(sys.recv(fd, new Uint8Array(4), 0));
    const b = track(sys.recvfrom(fd, new Uint8Array(4), 0));
    await flush();
    expect(clock.pendingTimers).toBe(2);
    sys.close(fd);
    expect(await errnoOf(a.promise)).toBe('recv EBADF');
    expect(await errnoOf(b.promise)).toBe('recvfrom EBADF');
    expect(handles[0]!.closed).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });

  it('a blocking stream write loops until all is taken; non-blocking returns the partial count', async () => {
    const { sys, handles } = setup();
    const fd = sys.socket(C.AF_INET, C.SOCK_STREAM);
    const h = handles[0]!;
    h.sendRoom = 3;
    const p = track(sys.write(fd, Uint8Array.of(1, 2, 3, 4, 5)));
    await flush();
    expect(p.settled()).toBe(false);
    h.sendRoom = 10;
    h.wake();
    expect(await p.promise).toBe(5);
    expect(h.sent.map((b) => [...b])).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
    h.sendRoom = 2;
    expect(await sys.send(fd, Uint8Array.of(7, 8, 9), C.MSG_DONTWAIT)).toBe(2);
  });

  it('MSG_WAITALL on a stream gathers until the buffer is full', async () => {
    const { sys, handles } = setup();
    const fd = sys.socket(C.AF_INET, C.SOCK_STREAM);
    const h = handles[0]!;
    const buf = new Uint8Array(4);
    const p = track(sys.recv(fd, buf, C.MSG_WAITALL));
    h.inbox.push(Uint8Array.of(1, 2));
    h.wake();
    await flush();
    expect(p.settled()).toBe(false);
    h.inbox.push(Uint8Array.of(3, 4, 5));
    h.wake();
    expect(await p.promise).toBe(4);
    expect([...buf]).toEqual([1, 2, 3, 4]);
  });

  it('calls answered at once resolve to their own count when counts repeat and change (shared settled promises)', async () => {
    const { sys, handles } = setup();
    const fd = sys.socket(C.AF_INET, C.SOCK_STREAM);
    const h = handles[0]!;
    const counts: number[] = [];
    for (const len of [1, 1, 3, 1, 0, 2, 2]) counts.push(await sys.write(fd, new Uint8Array(len)));
    expect(counts).toEqual([1, 1, 3, 1, 0, 2, 2]);
    // Reads share the same cache: a write's count must not leak into a read's.
    h.inbox.push(Uint8Array.of(9, 8, 7), Uint8Array.of(6));
    const buf = new Uint8Array(8);
    expect(await sys.read(fd, buf)).toBe(3);
    expect(await sys.write(fd, new Uint8Array(3))).toBe(3);
    expect(await sys.recv(fd, buf)).toBe(1);
    expect(await sys.send(fd, new Uint8Array(5))).toBe(5);
    // Partial stream write on a non-blocking call: the partial count.
    h.sendRoom = 4;
    expect(await sys.send(fd, new Uint8Array(9), C.MSG_DONTWAIT)).toBe(4);
  });

  it('unknown flags are EINVAL', async () => {
    const { sys } = setup();
    const fd = sys.socket(C.AF_INET, C.SOCK_DGRAM);
    expect(await errnoOf(sys.recv(fd, new Uint8Array(1), 0x10000000))).toBe('recv EINVAL');
    expect(await errnoOf(sys.send(fd, new Uint8Array(1), C.MSG_PEEK))).toBe('send EINVAL');
  });
});

describe('connect on a stream handle', () => {
  it('blocking: waits for the handle, then reports SO_ERROR as the connect error', async () => {
    const { sys, handles } = setup();
    const fd = sys.socket(C.AF_INET, C.SOCK_STREAM);
    const p = track(sys.connect(fd, { address: '10.0.0.2', port: 80 }));
    await flush();
    expect(p.settled()).toBe(false);
    expect(await errnoOf(sys.connect(fd, { address: '10.0.0.2', port: 80 }))).toBe('connect EALREADY');
    handles[0]!.finishConnect(111);
    await expect(p.promise).rejects.toMatchObject({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 10.0.0.2:80' });
  });

  it('non-blocking: EINPROGRESS, then poll POLLOUT and SO_ERROR 0', async () => {
    const { sys, handles } = setup();
    const fd = sys.socket(C.AF_INET, C.SOCK_STREAM | C.SOCK_NONBLOCK);
    expect(await errnoOf(sys.connect(fd, { address: '10.0.0.2', port: 80 }))).toBe('connect EINPROGRESS');
    const pfd = { fd, events: C.POLLOUT };
    const p = track(sys.poll([pfd], -1));
    await flush();
    expect(p.settled()).toBe(false);
    handles[0]!.finishConnect(0);
    expect(await p.promise).toEqual([{ fd, events: C.POLLOUT, revents: C.POLLOUT }]);
    expect(sys.getsockopt(fd, C.SOL_SOCKET, C.SO_ERROR)).toBe(0);
    expect(sys.getpeername(fd)).toEqual({ address: '10.0.0.2', port: 80 });
    expect(await errnoOf(sys.connect(fd, { address: '10.0.0.2', port: 80 }))).toBe('connect EISCONN');
  });

  it('blocking connect past SO_SNDTIMEO fails with EINPROGRESS (Linux)', async () => {
    const { sys, clock } = setup();
    const fd = sys.socket(C.AF_INET, C.SOCK_STREAM);
    sys.setsockopt(fd, C.SOL_SOCKET, C.SO_SNDTIMEO, { sec: 3, usec: 0 });
    const p = track(sys.connect(fd, { address: '10.0.0.2', port: 80 }));
    await flush();
    clock.runUntilIdle();
    expect(await errnoOf(p.promise)).toBe('connect EINPROGRESS');
  });
});

describe('poll()', () => {
  it('timeout 0 looks once; POLLNVAL for closed fds; negative fds are ignored', async () => {
    const { sys, handles } = setup();
    const a = sys.socket(C.AF_INET, C.SOCK_DGRAM);
    const b = sys.socket(C.AF_INET, C.SOCK_DGRAM);
    handles[1]!.inbox.push(Uint8Array.of(1));
    const fds = [
      { fd: a, events: C.POLLIN },
      { fd: b, events: C.POLLIN | C.POLLOUT },
      { fd: 42, events: C.POLLIN },
      { fd: -1, events: C.POLLIN },
    ];
    const r = await sys.poll(fds, 0);
    expect(r.map((p) => p.revents)).toEqual([0, C.POLLIN | C.POLLOUT, C.POLLNVAL, 0]);
    expect(r.filter((p) => p.revents !== 0).length).toBe(2);
    expect(r.map((p) => p.fd)).toEqual([a, b, 42, -1]);
  });

  it('POLLERR is reported even when not asked for', async () => {
    const { sys, handles } = setup();
    const a = sys.socket(C.AF_INET, C.SOCK_DGRAM);
    handles[0]!.sendRoom = 0;
    handles[0]!.error = 111;
    const pfd = { fd: a, events: C.POLLIN };
    expect((await sys.poll([pfd], 0))[0]!.revents).toBe(C.POLLERR);
  });

  it('waits in virtual time and returns 0 on timeout', async () => {
    const { sys, clock, handles } = setup();
    const a = sys.socket(C.AF_INET, C.SOCK_DGRAM);
    handles[0]!.sendRoom = 0;
    const pfd = { fd: a, events: C.POLLIN };
    const p = track(sys.poll([pfd], 250));
    await flush();
    expect(p.settled()).toBe(false);
    clock.runUntilIdle();
    expect(await p.promise).toEqual([{ ...pfd, revents: 0 }]);
    expect(clock.now()).toBe(250_000);
  });

  it('wakes on readiness of any polled descriptor, and on close (POLLNVAL)', async () => {
    const { sys, handles, clock } = setup();
    const a = sys.socket(C.AF_INET, C.SOCK_DGRAM);
    const b = sys.socket(C.AF_INET, C.SOCK_DGRAM);
    for (const h of handles) h.sendRoom = 0;
    const fds = [
      { fd: a, events: C.POLLIN },
      { fd: b, events: C.POLLIN },
    ];
    const p = track(sys.poll(fds, -1));
    await flush();
    handles[1]!.inbox.push(Uint8Array.of(1));
    handles[1]!.wake();
    expect((await p.promise).map((f) => f.revents)).toEqual([0, C.POLLIN]);
    expect(clock.pendingTimers).toBe(0);
    const q = track(sys.poll([{ fd: a, events: C.POLLIN }], 1000));
    await flush();
    sys.close(a);
    expect((await q.promise)[0]!.revents).toBe(C.POLLNVAL);
  });
});

describe('socket options framework', () => {
  it('SO_TYPE, SO_DOMAIN, SO_PROTOCOL are read-only', async () => {
    const { sys } = setup();
    const fd = sys.socket(C.AF_INET, C.SOCK_STREAM);
    expect(sys.getsockopt(fd, C.SOL_SOCKET, C.SO_TYPE)).toBe(C.SOCK_STREAM);
    expect(sys.getsockopt(fd, C.SOL_SOCKET, C.SO_DOMAIN)).toBe(C.AF_INET);
    expect(sys.getsockopt(fd, C.SOL_SOCKET, C.SO_PROTOCOL)).toBe(C.IPPROTO_TCP);
    expect(await errnoOf(() => sys.setsockopt(fd, C.SOL_SOCKET, C.SO_TYPE, 2))).toBe('setsockopt ENOPROTOOPT');
  });

  it('tables: booleans as 0/1, unknown options ENOPROTOOPT, Linux doubling of SO_RCVBUF, SO_LINGER objects', async () => {
    const { sys } = setup();
    const fd = sys.socket(C.AF_INET, C.SOCK_STREAM);
    sys.setsockopt(fd, C.SOL_SOCKET, C.SO_REUSEADDR, true);
    expect(sys.getsockopt(fd, C.SOL_SOCKET, C.SO_REUSEADDR)).toBe(1);
    sys.setsockopt(fd, C.SOL_SOCKET, C.SO_RCVBUF, 4096);
    expect(sys.getsockopt(fd, C.SOL_SOCKET, C.SO_RCVBUF)).toBe(8192);
    sys.setsockopt(fd, C.SOL_SOCKET, C.SO_RCVBUF, 1);
    expect(sys.getsockopt(fd, C.SOL_SOCKET, C.SO_RCVBUF)).toBe(2304);
    sys.setsockopt(fd, C.SOL_SOCKET, C.SO_RCVBUF, 1 << 30);
    expect(sys.getsockopt(fd, C.SOL_SOCKET, C.SO_RCVBUF)).toBe(425984);
    expect(sys.getsockopt(fd, C.SOL_SOCKET, C.SO_LINGER)).toEqual({ onoff: 0, linger: 0 });
    sys.setsockopt(fd, C.SOL_SOCKET, C.SO_LINGER, { onoff: 1, linger: 0 });
    expect(sys.getsockopt(fd, C.SOL_SOCKET, C.SO_LINGER)).toEqual({ onoff: 1, linger: 0 });
    expect(await errnoOf(() => sys.getsockopt(fd, C.SOL_SOCKET, 999))).toBe('getsockopt ENOPROTOOPT');
    expect(await errnoOf(() => sys.getsockopt(fd, C.IPPROTO_UDP, 1))).toBe('getsockopt ENOPROTOOPT');
    expect(await errnoOf(() => sys.setsockopt(fd, C.SOL_SOCKET, C.SO_SNDLOWAT, 10))).toBe('setsockopt ENOPROTOOPT');
    expect(sys.getsockopt(fd, C.IPPROTO_TCP, C.TCP_NODELAY)).toBe(1);
  });
});

describe('misc', () => {
  it('shutdown validates how; listen caps the backlog; getpeername ENOTCONN', async () => {
    const { sys } = setup();
    const fd = sys.socket(C.AF_INET, C.SOCK_STREAM);
    expect(await errnoOf(() => sys.shutdown(fd, 3))).toBe('shutdown EINVAL');
    sys.listen(fd, -1);
    expect(await errnoOf(() => sys.getpeername(fd))).toBe('getpeername ENOTCONN');
    expect(sys.getsockname(fd)).toEqual({ address: '0.0.0.0', port: 0 });
    expect(sys.handleOf(fd)).toBeDefined();
  });

  it('errno names the user call, not the handle operation', async () => {
    const errs: ErrnoName[] = [];
    const { sys, handles } = setup();
    const fd = sys.socket(C.AF_INET, C.SOCK_DGRAM);
    handles[0]!.recv = (): never => raise('ECONNREFUSED');
    try {
      await sys.read(fd, new Uint8Array(1));
    } catch (e) {
      if (isSocketError(e)) errs.push(e.code);
      expect((e as Error).message).toBe('read ECONNREFUSED');
    }
    expect(errs).toEqual(['ECONNREFUSED']);
  });
});
