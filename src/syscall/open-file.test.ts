/**
 * The fast blocking path of open-file.ts (RetryCall, RecvCall, RetryQueue): a read,
 * accept or connect without a timeout that retries itself when woken.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../time/manual-clock.js';
import { constants as C } from './constants.js';
import { errnoOf, track } from './outcome.fixtures.js';
import { IN_PROGRESS, WOULD_BLOCK } from './socket-handle.js';
import type { Accepted, Endpoint, RecvResult, SocketHandle, WouldBlock } from './socket-handle.js';
import type { SockOptValue } from './sockopt.js';
import { Syscalls } from './syscalls.js';

/** A stream handle whose data, connections and connect outcome the test supplies, counting every attempt. */
class ScriptedHandle implements SocketHandle {
  readonly family = C.AF_INET;
  readonly type = C.SOCK_STREAM;
  readonly protocol = C.IPPROTO_TCP;
  waker: (() => void) | undefined;
  data: number[] = [];
  pending: ScriptedHandle[] = [];
  connecting = false;
  error = 0;
  recvCalls = 0;
  acceptCalls = 0;
  /** Set while the handle itself is at work: an attempt then would be re-entrant. */
  busy = false;
  reentered = false;

  /** The handle's own work that ends in a wake-up (a segment arriving). */
  wake(): void {
    this.busy = true;
    this.waker?.();
    this.busy = false;
  }
  readiness(): number {
    let m = this.data.length > 0 || this.pending.length > 0 ? C.POLLIN : 0;
    if (!this.connecting) m |= C.POLLOUT;
    if (this.error !== 0) m |= C.POLLERR;
    return m;
  }
  setWaker(w: (() => void) | undefined): void {
    this.waker = w;
  }
  bind(): void {}
  listen(): void {}
  connect(): void | typeof IN_PROGRESS {
    this.connecting = true;
    return IN_PROGRESS;
  }
  accept(): Accepted | WouldBlock {
    this.acceptCalls++;
    if (this.busy) this.reentered = true;
    const h = this.pending.shift();
    return h === undefined ? WOULD_BLOCK : { handle: h, peer: { address: 0x0a000002, port: 4000 } };
  }
  send(): number | WouldBlock {
    return WOULD_BLOCK;
  }
  recv(buffers: readonly Uint8Array[]): RecvResult | WouldBlock {
    this.recvCalls++;
    if (this.busy) this.reentered = true;
    if (this.data.length === 0) return WOULD_BLOCK;
    const buf = buffers[0]!;
    let n = 0;
    while (n < buf.length && this.data.length > 0) buf[n++] = this.data.shift()!;
    return { bytesRead: n, from: undefined, flags: 0 };
  }
  shutdown(): void {}
  close(): void {}
  localEndpoint(): Endpoint {
    return { address: 0, port: 0 };
  }
  remoteEndpoint(): Endpoint | undefined {
    return undefined;
  }
  takeError(): number {
    const e = this.error;
    this.error = 0;
    return e;
  }
  getsockopt(): SockOptValue {
    return 0;
  }
  setsockopt(): void {}
}

function setup(workEnd?: { retryAtWorkEnd: boolean }) {
  const sys = new Syscalls({ clock: new ManualClock(), ...(workEnd === undefined ? {} : { workEnd }) });
  const handles: ScriptedHandle[] = [];
  sys.registerProtocol({
    family: C.AF_INET,
    type: C.SOCK_STREAM,
    protocol: C.IPPROTO_TCP,
    create: () => {
      const h = new ScriptedHandle();
      handles.push(h);
      return h;
    },
  });
  return { sys, handles };
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

describe('blocked calls without a timeout (RetryCall)', () => {
  it('a read retries once per wake-up, after the handle is done, and resolves when data came', async () => {
    const { sys, handles } = setup();
    const fd = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    const h = handles[0]!;
    const buf = new Uint8Array(4);
    const p = track(sys.read(fd, buf));
    expect(h.recvCalls).toBe(1);
    // A wake-up with nothing to read: one more attempt, and the call keeps waiting.
    h.wake();
    expect(h.recvCalls).toBe(1);
    await flush();
    expect(h.recvCalls).toBe(2);
    expect(p.settled()).toBe(false);
    h.data.push(7, 8);
    h.wake();
    h.wake(); // a second wake-up of the same batch finds the call already woken
    await flush();
    expect(h.recvCalls).toBe(3);
    expect(await p.promise).toBe(2);
    expect(Array.from(buf.subarray(0, 2))).toEqual([7, 8]);
    expect(h.reentered).toBe(false);
  });

  it('blocked reads in turn and at once each fill their own buffer, from their own descriptor, and fail under their own name', async () => {
    const { sys, handles } = setup();
    const a = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    const b = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    const [ha, hb] = handles as [ScriptedHandle, ScriptedHandle];
    // One after another (a settled wait is reused for the next one).
    for (let i = 0; i < 3; i++) {
      const buf = new Uint8Array(2);
      const p = track(sys.read(i % 2 === 0 ? a : b, buf));
      await flush();
      expect(p.settled()).toBe(false);
      const h = i % 2 === 0 ? ha : hb;
      h.data.push(10 + i, 20 + i);
      h.wake();
      expect(await p.promise).toBe(2);
      expect(Array.from(buf)).toEqual([10 + i, 20 + i]);
    }
    // Two at once, woken in the other order.
    const bufA = new Uint8Array(1);
    const bufB = new Uint8Array(1);
    const pa = track(sys.read(a, bufA));
    const pb = track(sys.recv(b, bufB));
    hb.data.push(2);
    hb.wake();
    await flush();
    expect(pb.settled()).toBe(true);
    expect(pa.settled()).toBe(false);
    ha.data.push(1);
    ha.wake();
    expect(await pa.promise).toBe(1);
    expect(await pb.promise).toBe(1);
    expect([bufA[0], bufB[0]]).toEqual([1, 2]);
    // A read, then a recv that is closed while it waits: the error names the recv.
    const pr = track(sys.read(a, new Uint8Array(1)));
    ha.data.push(5);
    ha.wake();
    expect(await pr.promise).toBe(1);
    const pc = track(sys.recv(b, new Uint8Array(1)));
    await flush();
    sys.close(b);
    expect(await errnoOf(pc.promise)).toBe('recv EBADF');
    // And the next blocked read on the other descriptor still works.
    const last = new Uint8Array(1);
    const pl = track(sys.read(a, last));
    ha.data.push(9);
    ha.wake();
    expect(await pl.promise).toBe(1);
    expect(last[0]).toBe(9);
    expect(ha.reentered).toBe(false);
  });

  it('accept resolves with a new descriptor once a connection is queued, without re-entering the handle', async () => {
    const { sys, handles } = setup();
    const lfd = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    const h = handles[0]!;
    const p = track(sys.accept(lfd));
    await flush();
    expect(p.settled()).toBe(false);
    const child = new ScriptedHandle();
    h.pending.push(child);
    h.wake();
    const r = await p.promise;
    expect(r.fd).toBe(lfd + 1);
    expect(r.address).toEqual({ address: '10.0.0.2', port: 4000 });
    expect(sys.handleOf(r.fd)).toBe(child);
    expect(h.acceptCalls).toBe(2);
    expect(h.reentered).toBe(false);
  });

  it("connect waits for the outcome and rejects with the connection's error", async () => {
    const { sys, handles } = setup();
    const fd = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    const h = handles[0]!;
    const p = track(sys.connect(fd, { address: '10.0.0.2', port: 80 }));
    await flush();
    expect(p.settled()).toBe(false);
    h.connecting = false;
    h.error = 111; // ECONNREFUSED
    h.wake();
    expect(await errnoOf(p.promise)).toBe('connect ECONNREFUSED');
    // A connect that succeeds resolves.
    const fd2 = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    const h2 = handles[1]!;
    const q = track(sys.connect(fd2, { address: '10.0.0.2', port: 80 }));
    h2.connecting = false;
    h2.wake();
    await expect(q.promise).resolves.toBeUndefined();
  });

  it('close() rejects blocked reads, accepts and connects with EBADF, also when closed between wake-up and retry', async () => {
    const { sys, handles } = setup();
    const a = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    const b = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    const c = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    const d = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    const reading = track(sys.recv(a, new Uint8Array(1)));
    const accepting = track(sys.accept(b));
    const connecting = track(sys.connect(c, { address: '10.0.0.2', port: 80 }));
    const woken = track(sys.read(d, new Uint8Array(1)));
    await flush();
    sys.close(a);
    sys.close(b);
    sys.close(c);
    // Woken (data arrived), then closed before its retry ran: EBADF, and the data stays unread.
    handles[3]!.data.push(1);
    handles[3]!.wake();
    sys.close(d);
    expect(await errnoOf(reading.promise)).toBe('recv EBADF');
    expect(await errnoOf(accepting.promise)).toBe('accept EBADF');
    expect(await errnoOf(connecting.promise)).toBe('connect EBADF');
    expect(await errnoOf(woken.promise)).toBe('read EBADF');
    expect(handles[3]!.data).toEqual([1]);
  });

  it('O_NONBLOCK and SO_RCVTIMEO keep their own paths: EAGAIN at once, EAGAIN at the deadline', async () => {
    const { sys } = setup();
    const fd = sys.socket(C.AF_INET, C.SOCK_STREAM | C.SOCK_NONBLOCK, 0);
    expect(await errnoOf(sys.read(fd, new Uint8Array(1)))).toBe('read EAGAIN');
    expect(await errnoOf(sys.accept(fd))).toBe('accept EAGAIN');
    expect(await errnoOf(sys.connect(fd, { address: '10.0.0.2', port: 80 }))).toBe('connect EINPROGRESS');
    const clock = new ManualClock();
    const timed = new Syscalls({ clock });
    timed.registerProtocol({ family: C.AF_INET, type: C.SOCK_STREAM, protocol: C.IPPROTO_TCP, create: () => new ScriptedHandle() });
    const t = timed.socket(C.AF_INET, C.SOCK_STREAM, 0);
    timed.setsockopt(t, C.SOL_SOCKET, C.SO_RCVTIMEO, { sec: 1, usec: 0 });
    const p = track(timed.accept(t));
    await flush();
    clock.runUntilIdle();
    expect(await errnoOf(p.promise)).toBe('accept EAGAIN');
  });
});

describe('woken calls retried at the end of the stack\'s work (issue 9)', () => {
  it('a call woken inside the work waits for retryWoken(), then retries synchronously; one woken outside keeps its microtask', async () => {
    const stack = { retryAtWorkEnd: false };
    const { sys, handles } = setup(stack);
    const fd = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    const h = handles[0]!;
    const buf = new Uint8Array(2);
    const p = track(sys.read(fd, buf));
    h.data.push(3, 4);
    stack.retryAtWorkEnd = true;
    h.wake();
    stack.retryAtWorkEnd = false;
    // No microtask: the retry waits for the end of the work...
    await flush();
    expect(h.recvCalls).toBe(1);
    // ...and runs right there.
    sys.retryWoken();
    expect(h.recvCalls).toBe(2);
    expect(Array.from(buf)).toEqual([3, 4]);
    expect(await p.promise).toBe(2);
    // A wake-up outside the stack's work (a user call): a microtask, and a work end meanwhile leaves it alone.
    const q = track(sys.read(fd, buf));
    h.data.push(5);
    h.wake();
    sys.retryWoken();
    expect(h.recvCalls).toBe(3);
    await flush();
    expect(h.recvCalls).toBe(4);
    expect(await q.promise).toBe(1);
    expect(h.reentered).toBe(false);
  });

  it('work that a retry sets off, ending inside the retry pass, does not run a nested pass: its calls take a microtask', async () => {
    const stack = { retryAtWorkEnd: false };
    const { sys, handles } = setup(stack);
    const a = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    const b = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    const c = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    const [ha, hb, hc] = handles as [ScriptedHandle, ScriptedHandle, ScriptedHandle];
    const order: string[] = [];
    const pa = sys.read(a, new Uint8Array(1)).then((n) => order.push(`a${n}`));
    const pb = sys.read(b, new Uint8Array(1)).then((n) => order.push(`b${n}`));
    const pc = sys.read(c, new Uint8Array(1)).then((n) => order.push(`c${n}`));
    // a's read, when retried, sets off work of the stack that wakes c and ends (a synchronous link).
    const recvA = ha.recv.bind(ha);
    ha.recv = (bufs) => {
      const r = recvA(bufs);
      stack.retryAtWorkEnd = true;
      hc.data.push(3);
      hc.wake();
      stack.retryAtWorkEnd = false;
      sys.retryWoken();
      return r;
    };
    ha.data.push(1);
    hb.data.push(2);
    stack.retryAtWorkEnd = true;
    ha.wake();
    hb.wake();
    stack.retryAtWorkEnd = false;
    sys.retryWoken();
    // a and b ran in this pass; c, woken during it, waits for its own.
    expect([ha.recvCalls, hb.recvCalls, hc.recvCalls]).toEqual([2, 2, 1]);
    await Promise.all([pa, pb, pc]);
    expect(hc.recvCalls).toBe(2);
    expect(order).toEqual(['a1', 'b1', 'c1']);
  });
});
