/**
 * poll(): scanning descriptors' readiness and sleeping on several open
 * files at once until one is woken or closed, or the timeout passes on the
 * Clock. Functions of the descriptor table and the clock, apart from the
 * Syscalls class, whose poll() checks the arguments and calls pollLoop.
 */
import type { Clock, TimerHandle } from '../time/clock.js';
import type { Instant } from '../time/instant.js';
import { constants as C } from './constants.js';
import type { FdTable } from './fd-table.js';
import type { OpenFile, Waiter } from './open-file.js';

/** One entry of poll()'s request. */
export interface PollFd {
  readonly fd: number;
  readonly events: number;
}

/** One entry of poll()'s answer: the request with C's `revents` filled in. */
export interface PollResult {
  readonly fd: number;
  readonly events: number;
  readonly revents: number;
}

export function pollScan(table: FdTable<OpenFile>, fds: readonly PollFd[], out: PollResult[]): number {
  let n = 0;
  out.length = 0;
  for (const p of fds) {
    let rev = 0;
    if (p.fd >= 0) {
      const file = table.get(p.fd);
      if (file === undefined) rev = C.POLLNVAL;
      else rev = file.handle.readiness() & (p.events | C.POLLERR | C.POLLHUP);
    }
    out.push({ fd: p.fd, events: p.events, revents: rev });
    if (rev !== 0) n++;
  }
  return n;
}

export async function pollLoop(
  table: FdTable<OpenFile>,
  clock: Clock,
  fds: readonly PollFd[],
  deadline: Instant | undefined,
): Promise<PollResult[]> {
  const out: PollResult[] = [];
  for (;;) {
    if (pollScan(table, fds, out) > 0) return out;
    if (deadline !== undefined && clock.now() >= deadline) return out;
    const woken = await waitMany(table, clock, fds, deadline);
    if (!woken) {
      pollScan(table, fds, out);
      return out;
    }
  }
}

/** Like wait (blocking.ts), over every open file in `fds`; a close counts as a wake-up (the fd then reads POLLNVAL). */
export function waitMany(table: FdTable<OpenFile>, clock: Clock, fds: readonly PollFd[], deadline: Instant | undefined): Promise<boolean> {
  const files = new Set<OpenFile>();
  for (const p of fds) {
    const f = p.fd >= 0 ? table.get(p.fd) : undefined;
    if (f !== undefined) files.add(f);
  }
  return new Promise<boolean>((resolve) => {
    let timer: TimerHandle | undefined;
    const finish = (v: boolean): void => {
      for (const f of files) f.removeWaiter(waiter);
      clock.clearTimer(timer);
      resolve(v);
    };
    const waiter: Waiter = { wake: () => finish(true), closed: () => finish(true) };
    for (const f of files) f.addWaiter(waiter);
    if (deadline !== undefined) timer = clock.setTimer(deadline, () => finish(false));
  });
}
