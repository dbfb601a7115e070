/**
 * How a blocking call waits: the general retry loop that turns a handle's
 * WOULD_BLOCK into sleeping on the open file until it is woken, closed
 * (EBADF) or a deadline on the Clock passes (EAGAIN for O_NONBLOCK,
 * MSG_DONTWAIT or an expired SO_RCVTIMEO / SO_SNDTIMEO). Functions of the
 * clock and the open file only, apart from the Syscalls class that calls
 * them; the no-timeout fast path (RetryCall, RecvCall) lives in open-file.ts. Also
 * closeWait's wait for a lingering close.
 */
import type { ErrnoName } from '../errno/errno.js';
import type { Clock, TimerHandle } from '../time/clock.js';
import type { Duration } from '../time/duration.js';
import type { Instant } from '../time/instant.js';
import { BlockedCall } from './open-file.js';
import type { OpenFile } from './open-file.js';
import { WOULD_BLOCK, raise } from './socket-handle.js';
import type { SocketHandle, WouldBlock } from './socket-handle.js';

/**
 * Sleeps until the file is woken (true), the deadline passes (false) or the
 * file is closed (rejects EBADF).
 */
export function wait(clock: Clock, file: OpenFile, deadline: Instant | undefined): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    const waiter = new BlockedCall(file, clock, resolve, reject);
    file.addWaiter(waiter);
    if (deadline !== undefined) waiter.timer = clock.setTimer(deadline, () => waiter.expire());
  });
}

export function deadlineAfter(clock: Clock, timeout: Duration | undefined): Instant | undefined {
  return timeout === undefined ? undefined : ((clock.now() + timeout) as Instant);
}

/**
 * Retries `attempt` until it stops answering WOULD_BLOCK. Non-blocking
 * (O_NONBLOCK or MSG_DONTWAIT): EAGAIN at once. A timeout: EAGAIN when it
 * expires (Linux: SO_RCVTIMEO/SO_SNDTIMEO, "EAGAIN or EWOULDBLOCK").
 */
export async function blocking<T>(
  clock: Clock,
  file: OpenFile,
  nonblock: boolean,
  timeout: Duration | undefined,
  attempt: (last: boolean) => T | WouldBlock,
  onTimeout: ErrnoName = 'EAGAIN',
): Promise<T> {
  const deadline = deadlineAfter(clock, timeout);
  for (;;) {
    if (file.closed) raise('EBADF');
    const r = attempt(nonblock);
    if (r !== WOULD_BLOCK) return r;
    if (nonblock) raise('EAGAIN');
    if (deadline !== undefined && clock.now() >= deadline) raise(onTimeout);
    const woken = await wait(clock, file, deadline);
    if (!woken) {
      // One last try: readiness may have changed at the very instant the timer fired.
      if (file.closed) raise('EBADF');
      const last = attempt(true);
      if (last !== WOULD_BLOCK) return last;
      raise(onTimeout);
    }
  }
}

/**
 * closeWait's wait (Linux sk_stream_wait_close): resolves once the handle
 * no longer has a lingering close pending or at `deadline`, whichever
 * comes first.
 */
export function lingerWait(clock: Clock, h: SocketHandle, deadline: Instant): Promise<void> {
  return new Promise<void>((resolve) => {
    const timers: TimerHandle[] = [];
    const finish = (): void => {
      h.setWaker(undefined);
      for (const t of timers) clock.clearTimer(t);
      resolve();
    };
    h.setWaker(() => {
      if (h.lingerPending?.() !== true) finish();
    });
    timers.push(clock.setTimer(deadline, finish));
  });
}
