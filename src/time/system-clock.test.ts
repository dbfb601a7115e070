import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Duration } from './duration.js';
import { instantAdd, instantDiff } from './instant.js';
import type { Instant } from './instant.js';
import { SystemClock } from './system-clock.js';

function sleepFor(clock: SystemClock, d: Duration): Promise<Instant> {
  const at = instantAdd(clock.now(), d);
  return new Promise((resolve) => {
    clock.setTimer(at, () => resolve(at));
  });
}

/** Captures setTimeout calls instead of arming real timers. */
function fakeTimers(): { delays: number[]; unrefs: number; fire: (i: number) => void } {
  const state = { delays: [] as number[], unrefs: 0, fire: (_i: number): void => undefined };
  const fns: (() => void)[] = [];
  vi.stubGlobal('setTimeout', (fn: () => void, delay: number) => {
    state.delays.push(delay);
    fns.push(fn);
    return { unref: () => void state.unrefs++ };
  });
  vi.stubGlobal('clearTimeout', () => undefined);
  state.fire = (i) => fns[i]!();
  return state;
}

describe('SystemClock', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('counts whole microseconds since the Unix epoch by default, monotonically', () => {
    const clock = new SystemClock();
    const a = clock.now();
    const wall = Date.now() * 1000;
    expect(Number.isSafeInteger(a)).toBe(true);
    // Same day as the wall clock (loose: the wall clock may have been stepped).
    expect(Math.abs(a - wall)).toBeLessThan(86_400_000_000);
    let prev = a;
    for (let i = 0; i < 10_000; i++) {
      const t = clock.now();
      expect(t >= prev).toBe(true);
      prev = t;
    }
  });

  it('reads the global `performance` once, when made, not per reading (Node makes it a lazy accessor)', () => {
    const descriptor = Object.getOwnPropertyDescriptor(globalThis, 'performance');
    const real = globalThis.performance;
    let reads = 0;
    Object.defineProperty(globalThis, 'performance', {
      configurable: true,
      get: () => {
        reads++;
        return real;
      },
    });
    try {
      const clock = new SystemClock();
      const made = reads;
      let prev = clock.now();
      for (let i = 0; i < 100; i++) {
        const t = clock.now();
        expect(t).toBeGreaterThanOrEqual(prev);
        prev = t;
      }
      expect(made).toBeGreaterThan(0);
      expect(reads).toBe(made);
      // Still real time: the same reading as the real object gives, give or take the loop.
      expect(Math.abs(prev - Math.floor((real.timeOrigin + real.now()) * 1000))).toBeLessThan(1_000_000);
    } finally {
      if (descriptor !== undefined) Object.defineProperty(globalThis, 'performance', descriptor);
    }
  });

  it("counts from the runtime's time origin when asked", () => {
    const t = new SystemClock({ epoch: 'origin' }).now();
    expect(t).toBeGreaterThanOrEqual(0);
    expect(t).toBeLessThan(performance.now() * 1000 + 1);
  });

  it('fires a timer once real time reaches it, never before', async () => {
    const clock = new SystemClock();
    const start = clock.now();
    const at = await sleepFor(clock, Duration.fromMillis(30));
    const now = clock.now();
    expect(now >= at).toBe(true);
    expect(instantDiff(now, start) >= Duration.fromMillis(30)).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });

  it('fires timers in due order and not cleared ones', async () => {
    const clock = new SystemClock();
    const log: string[] = [];
    const t0 = clock.now();
    const cleared = clock.setTimer(instantAdd(t0, Duration.fromMillis(5)), () => log.push('cleared'));
    clock.setTimer(instantAdd(t0, Duration.fromMillis(40)), () => log.push('b'));
    clock.setTimer(instantAdd(t0, Duration.fromMillis(10)), () => log.push('a'));
    expect(clock.pendingTimers).toBe(3);
    clock.clearTimer(cleared);
    clock.clearTimer(cleared);
    clock.clearTimer(undefined);
    expect(clock.pendingTimers).toBe(2);
    await sleepFor(clock, Duration.fromMillis(80));
    expect(log).toEqual(['a', 'b']);
  });

  it('runs a timer in the past asynchronously, soon', async () => {
    const clock = new SystemClock();
    let fired = false;
    const p = new Promise<void>((resolve) => {
      clock.setTimer(instantAdd(clock.now(), Duration.fromSecs(-10)), () => {
        fired = true;
        resolve();
      });
    });
    expect(fired).toBe(false);
    await p;
    expect(fired).toBe(true);
  });

  it('runs due timers without a platform timer, in arming order, skipping cleared ones', async () => {
    const clock = new SystemClock();
    const log: string[] = [];
    const now = clock.now();
    let timeouts = 0;
    const realSetTimeout = globalThis.setTimeout;
    vi.stubGlobal('setTimeout', (fn: () => void, ms: number) => {
      timeouts++;
      return realSetTimeout(fn, ms);
    });
    const done = new Promise<void>((resolve) => {
      clock.setTimer(now, () => log.push('a'));
      const b = clock.setTimer(instantAdd(now, Duration.fromSecs(-1)), () => log.push('b'));
      clock.setTimer(now, () => {
        log.push('c');
        // Armed from inside a callback: still asynchronous, still after.
        clock.setTimer(clock.now(), () => {
          log.push('e');
          resolve();
        });
        log.push('d');
      });
      clock.clearTimer(b);
      clock.clearTimer(b);
      expect(clock.pendingTimers).toBe(2);
    });
    expect(log).toEqual([]);
    await done;
    expect(log).toEqual(['a', 'c', 'd', 'e']);
    expect(timeouts).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('drains microtasks between two due timers, as between two setTimeout callbacks', async () => {
    const clock = new SystemClock();
    const log: string[] = [];
    let second: ReturnType<SystemClock['setTimer']> | undefined;
    await new Promise<void>((resolve) => {
      clock.setTimer(clock.now(), () => {
        log.push('first');
        // A continuation released by the first timer runs before the second
        // timer, so it can still cancel it.
        void Promise.resolve().then(() => {
          log.push('continuation');
          clock.clearTimer(second);
        });
      });
      second = clock.setTimer(clock.now(), () => log.push('second'));
      clock.setTimer(clock.now(), () => resolve());
    });
    expect(log).toEqual(['first', 'continuation']);
  });

  it('does many due-timer hops quickly (no 1 ms clamp per hop)', async () => {
    // Not a timing assertion: it counts platform timers, which are what clamp.
    let timeouts = 0;
    const realSetTimeout = globalThis.setTimeout;
    vi.stubGlobal('setTimeout', (fn: () => void, ms: number) => {
      timeouts++;
      return realSetTimeout(fn, ms);
    });
    const clock = new SystemClock();
    let hops = 0;
    await new Promise<void>((resolve) => {
      const hop = (): void => {
        if (++hops === 1000) resolve();
        else clock.setTimer(clock.now(), hop);
      };
      clock.setTimer(clock.now(), hop);
    });
    expect(hops).toBe(1000);
    expect(timeouts).toBe(0);
  });

  it("unrefs its platform timers unless keepAlive is set", () => {
    const fake = fakeTimers();
    const clock = new SystemClock();
    clock.setTimer(instantAdd(clock.now(), Duration.fromSecs(1)), () => undefined);
    expect(fake.unrefs).toBe(1);
    const keep = new SystemClock({ keepAlive: true });
    keep.setTimer(instantAdd(keep.now(), Duration.fromSecs(1)), () => undefined);
    expect(fake.unrefs).toBe(1);
  });

  it('copes with runtimes whose timer handles have no unref (browsers)', () => {
    vi.stubGlobal('setTimeout', () => 7);
    const clock = new SystemClock();
    expect(() => clock.setTimer(instantAdd(clock.now(), Duration.fromSecs(1)), () => undefined)).not.toThrow();
  });

  it('splits waits longer than setTimeout can express, and re-arms when woken early', () => {
    const fake = fakeTimers();
    const clock = new SystemClock();
    let fired = false;
    clock.setTimer(instantAdd(clock.now(), Duration.fromSecs(30 * 24 * 3600)), () => (fired = true));
    expect(fake.delays).toEqual([0x7fffffff]);
    fake.fire(0); // the platform timer expires long before the instant
    expect(fired).toBe(false);
    expect(fake.delays.length).toBe(2);
    expect(fake.delays[1]).toBeGreaterThan(0x7fffffff / 2);
    expect(clock.pendingTimers).toBe(1);
  });

  it('does not keep a Node process alive by itself', () => {
    // A child process arms a timer an hour ahead and should exit at once.
    const here = fileURLToPath(new URL('./system-clock.ts', import.meta.url));
    const script = `
      const { SystemClock } = await import(${JSON.stringify(here)});
      const c = new SystemClock();
      c.setTimer(c.now() + 3600e6, () => { console.log('fired'); });
      console.log('armed', c.pendingTimers);
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.error).toBeUndefined();
    expect(r.signal).toBeNull(); // not killed by the timeout: it exited by itself
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('armed 1');
    expect(r.status).toBe(0);
  });

  it('runs a due timer before the process exits, with or without keepAlive', () => {
    const here = fileURLToPath(new URL('./system-clock.ts', import.meta.url));
    const run = (keepAlive: boolean): string => {
      const script = `
        const { SystemClock } = await import(${JSON.stringify(here)});
        const c = new SystemClock({ keepAlive: ${keepAlive} });
        // Armed after the module's top level settles, with nothing else pending.
        queueMicrotask(() => c.setTimer(c.now(), () => { console.log('fired'); }));
      `;
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.error).toBeUndefined();
      expect(r.status).toBe(0);
      return r.stdout.trim();
    };
    expect(run(true)).toBe('fired');
    expect(run(false)).toBe('fired');
  });
});
