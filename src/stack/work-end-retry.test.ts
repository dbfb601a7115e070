/**
 * Issue 9: on a real-time clock a Stack retries the blocked calls that its
 * own work woke (a read woken by the segment that brought its data) at the
 * end of that work (Stack.onWorkEnd, RetryQueue.flush), not from a
 * microtask. Here two Stacks talk over a hand-driven wire, and the clock is
 * a SystemClock in type (so the stacks take their real-time paths) whose
 * time stands still and whose timers never fire: every step is the test's,
 * and every outcome is exact.
 */
import { describe, expect, it } from 'vitest';
import { LinkType } from '../link/link.js';
import type { FrameHandler, Link } from '../link/link.js';
import { constants as C } from '../syscall/constants.js';
import type { Syscalls } from '../syscall/syscalls.js';
import type { TimerCallback, TimerHandle } from '../time/clock.js';
import type { Instant } from '../time/instant.js';
import { ManualClock } from '../time/manual-clock.js';
import { SystemClock } from '../time/system-clock.js';
import type { MacAddress } from '../wire/address.js';
import { Stack } from './stack.js';

/** Real time in type only: now never moves and no timer fires (none is needed: every step here is a frame). */
class StillClock extends SystemClock {
  override now(): Instant {
    return 1_000_000 as Instant;
  }
  override setTimer(_at: Instant, _fn: TimerCallback): TimerHandle {
    return {} as TimerHandle;
  }
  override clearTimer(): void {}
}

/** One end of a wire the test drives: frames sent wait in `outbox` until the test delivers them to the peer, as one run. */
class HandLink implements Link {
  readonly linkType = LinkType.Ethernet;
  readonly mtu = 1500;
  readonly trusted = true;
  readonly mac: MacAddress;
  readonly outbox: Uint8Array[] = [];
  receiver: FrameHandler | undefined;
  batchEnd: (() => void) | undefined;

  constructor(mac: MacAddress) {
    this.mac = mac;
  }

  send(frame: Uint8Array): void {
    this.outbox.push(frame.slice());
  }
  setReceiver(handler: FrameHandler | undefined): void {
    this.receiver = handler;
  }
  setBatchEnd(end: (() => void) | undefined): void {
    this.batchEnd = end;
  }
  close(): void {}
}

/** Two stacks, 10.0.0.1 and 10.0.0.2, each on one end of a HandLink pair. */
function pair(clock: SystemClock | ManualClock = new StillClock()) {
  const la = new HandLink(0x020000000001);
  const lb = new HandLink(0x020000000002);
  const a = new Stack({ clock, seed: 1 });
  const b = new Stack({ clock, seed: 2 });
  const ia = a.addInterface(la, { address: '10.0.0.1/24' });
  b.addInterface(lb, { address: '10.0.0.2/24' });
  /** Delivers what `from` sent so far to the other end, as one run (its batch end after the last frame). */
  const run = (from: HandLink, onFrame?: () => void): number => {
    const to = from === la ? lb : la;
    const frames = from.outbox.splice(0);
    for (const f of frames) {
      to.receiver?.(f);
      onFrame?.();
    }
    if (frames.length > 0) to.batchEnd?.();
    return frames.length;
  };
  /** Runs of frames both ways, user code (microtasks) in between, until the wire is quiet. */
  const pump = async (): Promise<void> => {
    for (let i = 0; i < 100; i++) {
      await microtasks();
      if (run(la) + run(lb) === 0) return;
    }
    throw new Error('the wire never went quiet');
  };
  return { a, b, la, lb, ia, run, pump };
}

async function microtasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

/** Outcome of a promise, readable without awaiting it. */
function track<T>(p: Promise<T>) {
  const t: { value?: T; error?: unknown; done: boolean } = { done: false };
  p.then(
    (v) => {
      t.value = v;
      t.done = true;
    },
    (e: unknown) => {
      t.error = e;
      t.done = true;
    },
  );
  return t;
}

/** A connected pair of TCP descriptors (client on a, server on b), TCP_NODELAY. */
async function connected(sa: Syscalls, sb: Syscalls, pump: () => Promise<void>, port: number) {
  const lfd = sb.socket(C.AF_INET, C.SOCK_STREAM, 0);
  sb.bind(lfd, { address: C.INADDR_ANY, port });
  sb.listen(lfd, 8);
  const accepting = track(sb.accept(lfd));
  const cfd = sa.socket(C.AF_INET, C.SOCK_STREAM, 0);
  sa.setsockopt(cfd, C.IPPROTO_TCP, C.TCP_NODELAY, 1);
  const connecting = track(sa.connect(cfd, { address: '10.0.0.2', port }));
  await pump();
  expect(connecting.done && accepting.done).toBe(true);
  expect(connecting.error).toBeUndefined();
  return { cfd, sfd: accepting.value!.fd };
}

/** Bytes the server side of `sfd` holds unread. */
function unread(sys: Syscalls, sfd: number): number {
  const h = sys.handleOf(sfd) as unknown as { connection: { conn: { recvAvailable: number } } };
  return h.connection.conn.recvAvailable;
}

describe('blocked calls woken by a stack run at the end of its work (real-time clock)', () => {
  it('reads woken by one run of frames get their bytes at the run\'s end, in wake-up order, before any microtask', async () => {
    const { a, b, la, run, pump } = pair();
    const [sa, sb] = [a.sys, b.sys];
    const one = await connected(sa, sb, pump, 7001);
    const two = await connected(sa, sb, pump, 7002);
    const buf1 = new Uint8Array(8);
    const buf2 = new Uint8Array(8);
    const order: string[] = [];
    // Both server reads block (nothing to read yet).
    const r1 = sb.read(one.sfd, buf1).then((n) => order.push(`one:${n}`));
    const r2 = sb.recv(two.sfd, buf2, 0).then((n) => order.push(`two:${n}`));
    await microtasks();
    expect(order).toEqual([]);
    // Data for the second connection first, then the first: one run carries both segments.
    await sa.write(two.cfd, Uint8Array.of(21, 22, 23));
    await sa.write(one.cfd, Uint8Array.of(11, 12));
    let unreadAfterFrames = -1;
    expect(run(la, () => (unreadAfterFrames = unread(sb, one.sfd) + unread(sb, two.sfd)))).toBe(2);
    // Between frames the data waits in the sockets; at the run's end (the
    // batch end) both woken reads took it: synchronously, no microtask ran.
    expect(unreadAfterFrames).toBe(5);
    expect(unread(sb, one.sfd) + unread(sb, two.sfd)).toBe(0);
    expect(Array.from(buf1.subarray(0, 2))).toEqual([11, 12]);
    expect(Array.from(buf2.subarray(0, 3))).toEqual([21, 22, 23]);
    await Promise.all([r1, r2]);
    // Resolved in wake-up order: the segment for `two` came first.
    expect(order).toEqual(['two:3', 'one:2']);
    // Request/response keeps working, and the next blocked read reuses the settled call.
    for (let i = 0; i < 3; i++) {
      const req = track(sb.read(one.sfd, buf1));
      await sa.write(one.cfd, Uint8Array.of(100 + i));
      await pump();
      expect(req.value).toBe(1);
      expect(buf1[0]).toBe(100 + i);
    }
  });

  it('a descriptor closed between its wake-up and the run\'s end rejects with EBADF and leaves the data unread', async () => {
    const { a, b, la, run, pump } = pair();
    const [sa, sb] = [a.sys, b.sys];
    const { cfd, sfd } = await connected(sa, sb, pump, 7003);
    const buf = new Uint8Array(4);
    const reading = track(sb.read(sfd, buf));
    await sa.write(cfd, Uint8Array.of(1, 2, 3));
    // The close comes after the frame woke the read, before the run ends.
    let closed = false;
    run(la, () => {
      if (!closed && unread(sb, sfd) > 0) {
        closed = true;
        sb.close(sfd);
      }
    });
    expect(closed).toBe(true);
    await microtasks();
    expect(reading.done).toBe(true);
    expect((reading.error as { code?: string }).code).toBe('EBADF');
    expect((reading.error as { syscall?: string }).syscall).toBe('read');
    // The retry saw the closed descriptor before reading anything.
    expect(Array.from(buf)).toEqual([0, 0, 0, 0]);
  });

  it('an interface removed in the middle of a run still lets the reads it woke finish', async () => {
    const { a, b, la, lb, run, pump } = pair();
    const [sa, sb] = [a.sys, b.sys];
    const { cfd, sfd } = await connected(sa, sb, pump, 7004);
    const buf = new Uint8Array(4);
    const reading = track(sb.read(sfd, buf));
    await sa.write(cfd, Uint8Array.of(9, 8, 7));
    const [ib] = b.interfaces.filter((i) => i.link === lb);
    const end = lb.batchEnd;
    run(la, () => {
      b.removeInterface(ib!);
    });
    // The link lost its batch end with the interface: the run ended in removeInterface.
    expect(lb.batchEnd).toBeUndefined();
    expect(end).toBeDefined();
    expect(unread(sb, sfd)).toBe(0);
    await microtasks();
    expect(reading.value).toBe(3);
    expect(Array.from(buf.subarray(0, 3))).toEqual([9, 8, 7]);
  });

  it('each stack retries only its own calls: a batch end on one stack leaves the other stack\'s woken reads alone', async () => {
    const { a, b, la, lb, run, pump } = pair();
    const [sa, sb] = [a.sys, b.sys];
    const { cfd, sfd } = await connected(sa, sb, pump, 7005);
    const atServer = new Uint8Array(2);
    const atClient = new Uint8Array(2);
    const serverRead = track(sb.read(sfd, atServer));
    const clientRead = track(sa.read(cfd, atClient));
    await sa.write(cfd, Uint8Array.of(5, 6));
    await sb.write(sfd, Uint8Array.of(7, 8));
    // Only the server's stack gets a run: only its read completes.
    run(la);
    expect(unread(sb, sfd)).toBe(0);
    expect(Array.from(atServer)).toEqual([5, 6]);
    expect(Array.from(atClient)).toEqual([0, 0]);
    run(lb);
    expect(Array.from(atClient)).toEqual([7, 8]);
    await microtasks();
    expect([serverRead.value, clientRead.value]).toEqual([2, 2]);
  });

  it('on a simulated clock a woken read keeps its microtask: it runs after the whole run, never at its end', async () => {
    const { a, b, la, run, pump } = pair(new ManualClock());
    expect(a.retryAtWorkEnd).toBe(false);
    const [sa, sb] = [a.sys, b.sys];
    const { cfd, sfd } = await connected(sa, sb, pump, 7006);
    const buf = new Uint8Array(4);
    const reading = track(sb.read(sfd, buf));
    await sa.write(cfd, Uint8Array.of(4, 3));
    run(la);
    // The data still waits in the socket after the run's end...
    expect(unread(sb, sfd)).toBe(2);
    await microtasks();
    // ...and the read has it one microtask later.
    expect(unread(sb, sfd)).toBe(0);
    expect(reading.value).toBe(2);
  });
});
