import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MemoryNetwork } from '../link/memory.js';
import { SeededRng } from '../random/rng.js';
import { Duration } from '../time/duration.js';
import { Instant } from '../time/instant.js';
import { writeMac } from '../wire/address.js';
import { VirtualClock } from './virtual-clock.js';

const ms = Duration.fromMillis;
const secs = Duration.fromSecs;

describe('VirtualClock', () => {
  it('runs an async chain of awaits on virtual sleeps in virtual order, with no manual driving', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const task = async (name: string, delays: number[]): Promise<void> => {
      for (const d of delays) {
        await clock.sleep(ms(d));
        log.push(`${clock.now() / 1000}ms ${name}`);
      }
    };
    await Promise.all([task('a', [10, 10, 10]), task('b', [15, 1, 100]), task('c', [0, 25])]);
    expect(log).toEqual(['0ms c', '10ms a', '15ms b', '16ms b', '20ms a', '25ms c', '30ms a', '116ms b']);
    expect(clock.now()).toBe(116_000);
    expect(clock.pendingTimers).toBe(0);
  });

  it('passes two hours of keepalives without waiting for real time', async () => {
    const clock = new VirtualClock();
    let probes = 0;
    // A real timer far shorter than the virtual span: virtual time must not wait for it.
    let realTimerFired = false;
    const real = setTimeout(() => (realTimerFired = true), 60_000);
    // One probe every 10 s for 2 h: 720 timers, each with its own await.
    while (clock.now() < Duration.fromSecs(7200)) {
      await clock.sleep(secs(10));
      probes++;
    }
    clearTimeout(real);
    expect(probes).toBe(720);
    expect(clock.now()).toBe(7_200_000_000);
    expect(realTimerFired).toBe(false);
  });

  it('is deterministic across runs: seeded concurrent tasks give the same trace', async () => {
    const run = async (seed: number): Promise<string[]> => {
      const clock = new VirtualClock();
      const rng = new SeededRng(seed);
      const log: string[] = [];
      const worker = async (id: number): Promise<void> => {
        const r = rng.fork(id);
        for (let i = 0; i < 20; i++) {
          // Many ties on purpose: arming order must decide them the same way every run.
          await clock.sleep(Duration.fromMillis(r.nextInt(5)));
          log.push(`${clock.now()}:${id}:${i}`);
        }
      };
      await Promise.all([0, 1, 2, 3].map(worker));
      return log;
    };
    const first = await run(99);
    expect(await run(99)).toEqual(first);
    expect(await run(100)).not.toEqual(first);
  });

  it('runs timers armed by callbacks and skips timers cleared before firing', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const cleared = clock.setTimer(Instant.fromMillis(20), () => log.push('cleared'));
    clock.setTimer(Instant.fromMillis(10), () => {
      log.push(`t10@${clock.now()}`);
      clock.clearTimer(cleared);
      clock.setTimer(Instant.fromMillis(15), () => log.push(`t15@${clock.now()}`));
      // In the past: runs at the current time, not synchronously.
      clock.setTimer(Instant.fromMillis(1), () => log.push(`past@${clock.now()}`));
      log.push('end t10');
    });
    await clock.idle();
    expect(log).toEqual(['t10@10000', 'end t10', 'past@10000', 't15@15000']);
    // Clearing a fired or foreign handle is a no-op.
    clock.clearTimer(cleared);
    clock.clearTimer(undefined);
  });

  it('breaks ties by arming order and lets microtasks run between timers due together', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    let second: ReturnType<VirtualClock['setTimer']> | undefined;
    const first = new Promise<void>((resolve) => {
      clock.setTimer(Instant.fromMillis(5), () => {
        log.push('first');
        resolve();
      });
    });
    second = clock.setTimer(Instant.fromMillis(5), () => log.push('second'));
    clock.setTimer(Instant.fromMillis(5), () => log.push('third'));
    // The continuation of the first timer's promise runs before the second timer,
    // as in a real event loop, so it can still cancel it.
    void first.then(() => {
      log.push('continuation');
      clock.clearTimer(second);
      second = undefined;
    });
    await clock.idle();
    expect(log).toEqual(['first', 'continuation', 'third']);
  });

  it('idle() resolves at once with nothing armed, and after the last timer otherwise', async () => {
    const clock = new VirtualClock();
    await clock.idle();
    expect(clock.now()).toBe(0);
    clock.setTimer(Instant.fromSecs(3), () => undefined);
    await clock.idle();
    expect(clock.now()).toBe(3_000_000);
  });

  it('idle() waits for timers armed by microtasks after the last timer', async () => {
    const clock = new VirtualClock();
    const done = (async () => {
      await clock.sleep(ms(1));
      await Promise.resolve();
      await clock.sleep(ms(1));
      return clock.now();
    })();
    await clock.idle();
    expect(await done).toBe(2_000);
  });

  it('stops at maxTime instead of running a re-arming loop forever', async () => {
    const clock = new VirtualClock({ maxTime: Instant.fromSecs(60) });
    let ticks = 0;
    const tick = (): void => {
      ticks++;
      clock.setTimer((clock.now() + secs(1)) as Instant, tick);
    };
    clock.setTimer(Instant.ZERO, tick);
    await expect(clock.idle()).rejects.toThrow(/maxTime/);
    expect(ticks).toBe(61);
    expect(clock.running).toBe(false);
    expect(clock.now()).toBe(60_000_000);
    // Manual driving still works after a stop.
    clock.advance(secs(2));
    expect(ticks).toBe(63);
  });

  it('stop() halts self-driving and rejects idle(); resume() continues', async () => {
    const clock = new VirtualClock();
    const log: number[] = [];
    clock.setTimer(Instant.fromSecs(1), () => log.push(1));
    const idle = clock.idle();
    clock.stop();
    await expect(idle).rejects.toThrow(/stopped/);
    await new Promise((r) => setTimeout(r, 5));
    expect(log).toEqual([]);
    clock.resume();
    await clock.idle();
    expect(log).toEqual([1]);
  });

  it('a throwing timer callback stops the clock and rejects idle() with its error', async () => {
    const clock = new VirtualClock();
    clock.setTimer(Instant.fromMillis(1), () => {
      throw new Error('boom');
    });
    const after = clock.setTimer(Instant.fromMillis(2), () => undefined);
    await expect(clock.idle()).rejects.toThrow('boom');
    expect(clock.running).toBe(false);
    expect(clock.pendingTimers).toBe(1);
    clock.clearTimer(after);
    expect(clock.pendingTimers).toBe(0);
  });

  it('manual advance runs held-back timers first and keeps ManualClock semantics', () => {
    // A scheduler that never runs: the clock is driven by hand only.
    const clock = new VirtualClock({ schedule: () => undefined });
    const log: string[] = [];
    clock.setTimer(Instant.fromMillis(2), () => log.push('b'));
    clock.setTimer(Instant.fromMillis(1), () => log.push('a'));
    expect(clock.nextTimerAt()).toBe(1_000);
    expect(clock.advance(ms(5))).toBe(2);
    expect(log).toEqual(['a', 'b']);
    expect(clock.now()).toBe(5_000);
  });

  it('drives a MemoryNetwork: an async request/response over a lossy, delayed LAN', async () => {
    const first = await stopAndWait(5);
    expect(first).toHaveLength(10);
    // Loss forced some retransmissions, each after the 100 ms timeout.
    expect(first.some((l) => !l.includes(':0@'))).toBe(true);
    // Deterministic: the same seed always loses the same frames.
    expect(await stopAndWait(5)).toEqual(first);
    expect(await stopAndWait(6)).not.toEqual(first);
  });
});

/** Stop-and-wait with a 100 ms retransmission timeout over a lossy LAN, all on virtual time. */
async function stopAndWait(seed: number): Promise<string[]> {
  const clock = new VirtualClock();
  const network = new MemoryNetwork({ clock, seed, latency: ms(20), loss: 0.2 });
  const a = network.attach();
  const b = network.attach();
  const frameTo = (dst: number, src: number, n: number): Uint8Array => {
    const f = new Uint8Array(64);
    writeMac(f, 0, dst);
    writeMac(f, 6, src);
    f[12] = 0x88;
    f[13] = 0xb5;
    f[14] = n;
    return f;
  };
  // b echoes every frame back.
  b.setReceiver((f) => b.send(frameTo(a.mac, b.mac, f[14]!)));
  const replies: number[] = [];
  let wake: (() => void) | undefined;
  a.setReceiver((f) => {
    replies.push(f[14]!);
    wake?.();
  });
  const log: string[] = [];
  for (let n = 0; n < 10; n++) {
    for (let attempt = 0; ; attempt++) {
      a.send(frameTo(b.mac, a.mac, n));
      const got = await Promise.race([
        new Promise<boolean>((resolve) => (wake = () => resolve(true))),
        clock.sleep(ms(100)).then(() => false),
      ]);
      wake = undefined;
      if (got && replies.includes(n)) {
        log.push(`${n}:${attempt}@${clock.now() / 1000}`);
        break;
      }
    }
  }
  await clock.idle();
  return log;
}

describe('VirtualClock in a process', () => {
  it('does not keep Node alive once no timer is armed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vclock-'));
    try {
      const modUrl = new URL('./virtual-clock.ts', import.meta.url).href;
      const script = join(dir, 'script.mts');
      writeFileSync(
        script,
        [
          `import { VirtualClock } from ${JSON.stringify(modUrl)};`,
          'const clock = new VirtualClock();',
          'const t = clock.setTimer(5_000_000, () => {});',
          'clock.setTimer(1_000, () => clock.clearTimer(t));',
          'await clock.idle();',
          'console.log("idle at", clock.now());',
        ].join('\n'),
      );
      const root = fileURLToPath(new URL('../../', import.meta.url));
      const res = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: root, encoding: 'utf8', timeout: 60_000 });
      expect(res.stderr).toBe('');
      expect(res.stdout.trim()).toBe('idle at 1000');
      // A clock that kept the event loop alive would be killed by the timeout (signal set, status null).
      expect(res.signal).toBeNull();
      expect(res.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
