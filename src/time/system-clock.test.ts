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
});
