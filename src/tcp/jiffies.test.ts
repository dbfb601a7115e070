import { describe, expect, it } from 'vitest';
import { Duration } from '../time/duration.js';
import { checkHz, jiffiesToUsecs, roundUpToJiffies, usecsToJiffies } from './jiffies.js';
import { RttEstimator } from './rtt.js';
import { lossProbeTimeoutFor } from './tlp.js';
import { connectedPair } from './harness.fixtures.js';

const ms = Duration.fromMillis;

describe('Linux jiffies arithmetic', () => {
  it('usecs_to_jiffies rounds up to whole ticks; an exact multiple stays exact', () => {
    expect(usecsToJiffies(0, 250)).toBe(0);
    expect(usecsToJiffies(1, 250)).toBe(1);
    expect(usecsToJiffies(4000, 250)).toBe(1);
    expect(usecsToJiffies(4001, 250)).toBe(2);
    expect(usecsToJiffies(25_000, 250)).toBe(7);
    expect(usecsToJiffies(25_000, 1000)).toBe(25);
    expect(usecsToJiffies(25_001, 1000)).toBe(26);
    expect(usecsToJiffies(200_000, 300)).toBe(60);
  });

  it('jiffies_to_usecs truncates where HZ does not divide a second, as the kernel', () => {
    expect(jiffiesToUsecs(9, 250)).toBe(ms(36));
    expect(jiffiesToUsecs(1, 300)).toBe(3333);
    expect(roundUpToJiffies(40_000, 250)).toBe(ms(40));
    expect(roundUpToJiffies(41_000, 250)).toBe(ms(44));
    expect(roundUpToJiffies(41_000, 100)).toBe(ms(50));
  });

  it('refuses a tick rate it cannot model', () => {
    expect(checkHz(250)).toBe(250);
    expect(() => checkHz(0)).toThrow(RangeError);
    expect(() => checkHz(2.5)).toThrow(RangeError);
  });
});

describe('TLP PTO in jiffies (tcp_schedule_loss_probe)', () => {
  it('2*SRTT rounded up to ticks, + TCP_TIMEOUT_MIN (2 jiffies) with more than one segment in flight', () => {
    // SRTT 1 ms: 2 ms + 2 ms at HZ=1000; 1 tick + 2 ticks = 12 ms at HZ=250.
    expect(lossProbeTimeoutFor(ms(1), false, Duration.ZERO, 1000)).toBe(ms(4));
    expect(lossProbeTimeoutFor(ms(1), false, Duration.ZERO, 250)).toBe(ms(12));
    // SRTT 20.4 ms: 2*SRTT = 40.8 ms -> 41 ticks at 1000, 11 ticks (44 ms) at 250.
    expect(lossProbeTimeoutFor(Duration.fromMicros(20_400), false, Duration.ZERO, 1000)).toBe(ms(43));
    expect(lossProbeTimeoutFor(Duration.fromMicros(20_400), false, Duration.ZERO, 250)).toBe(ms(52));
  });

  it('+ TCP_RTO_MIN (the worst-case delayed ACK) with one segment in flight; 1 s without a sample', () => {
    expect(lossProbeTimeoutFor(ms(10), true, Duration.ZERO, 250)).toBe(ms(220));
    expect(lossProbeTimeoutFor(undefined, false, Duration.ZERO, 250)).toBe(ms(1000));
  });

  it('WCDelAckT in ticks of the tick rate asked, whichever rate was asked before (its ticks are kept per hz)', () => {
    // SRTT 1 ms, one segment: 2 + 200 ticks at HZ=1000; 1 + 50 ticks (204 ms) at HZ=250.
    expect(lossProbeTimeoutFor(ms(1), true, Duration.ZERO, 1000)).toBe(ms(202));
    expect(lossProbeTimeoutFor(ms(1), true, Duration.ZERO, 250)).toBe(ms(204));
    expect(lossProbeTimeoutFor(ms(2), true, Duration.ZERO, 1000)).toBe(ms(204));
    expect(lossProbeTimeoutFor(ms(2), true, Duration.ZERO, 250)).toBe(ms(204));
  });

  it('never later than the RTO, itself rounded up to ticks', () => {
    expect(lossProbeTimeoutFor(ms(100), false, Duration.fromMicros(150_500), 1000)).toBe(ms(151));
    expect(lossProbeTimeoutFor(ms(100), false, Duration.fromMicros(150_500), 250)).toBe(ms(152));
  });

  it('the kept last answer never stands for other arguments: each one changed alone, and repeats', () => {
    // lossProbeTimeoutFor keeps its last arguments and answer (issue 9); every
    // call here differs from the one before in exactly one argument.
    const base = [ms(10), false, Duration.ZERO, 1000] as const;
    expect(lossProbeTimeoutFor(...base)).toBe(ms(22));
    expect(lossProbeTimeoutFor(...base)).toBe(ms(22));
    expect(lossProbeTimeoutFor(ms(11), false, Duration.ZERO, 1000)).toBe(ms(24));
    expect(lossProbeTimeoutFor(...base)).toBe(ms(22));
    expect(lossProbeTimeoutFor(ms(10), true, Duration.ZERO, 1000)).toBe(ms(220));
    expect(lossProbeTimeoutFor(...base)).toBe(ms(22));
    expect(lossProbeTimeoutFor(ms(10), false, ms(5), 1000)).toBe(ms(5));
    expect(lossProbeTimeoutFor(...base)).toBe(ms(22));
    expect(lossProbeTimeoutFor(ms(10), false, Duration.ZERO, 250)).toBe(ms(28));
    expect(lossProbeTimeoutFor(undefined, false, Duration.ZERO, 250)).toBe(ms(1000));
    expect(lossProbeTimeoutFor(ms(10), false, Duration.ZERO, 250)).toBe(ms(28));
  });
});

describe('RTO in jiffies (__tcp_set_rto)', () => {
  it('SRTT + max(4*RTTVAR, rto_min) rounded up to ticks before the bound', () => {
    const at1000 = new RttEstimator({ linuxRto: true, hz: 1000 });
    const at250 = new RttEstimator({ linuxRto: true, hz: 250 });
    const exact = new RttEstimator({ linuxRto: true });
    for (const r of [at1000, at250, exact]) r.sample(Duration.fromMicros(10_300));
    // 10.3 ms + 200 ms floor = 210.3 ms.
    expect(exact.rto).toBe(Duration.fromMicros(210_300));
    expect(at1000.rto).toBe(ms(211));
    expect(at250.rto).toBe(ms(212));
    // Backoff doubles whole ticks.
    at250.backoff();
    expect(at250.rto).toBe(ms(424));
  });

  it('the 200 ms floor and 1 s initial RTO are whole ticks at any HZ', () => {
    const r = new RttEstimator({ linuxRto: false, hz: 250 });
    expect(r.rto).toBe(ms(1000));
    r.sample(ms(1));
    expect(r.rto).toBe(ms(200));
  });
});

describe('delayed ACK in jiffies (tcp_send_delayed_ack: ato in ticks)', () => {
  /** When the server's bare ACK of a 100-byte segment leaves, in ms after the segment arrived. */
  function delackAfter(hz: number): number {
    const server = { quickAcks: 0, delayedAckTimeout: ms(41), linuxHz: hz };
    const { net, a, b, c } = connectedPair({ seed: 4, latency: ms(1), client: {}, server, settle: ms(300) });
    const start = net.log.length;
    c.send(new Uint8Array(100));
    net.run(ms(100));
    const log = net.log.slice(start);
    const data = log.find((x) => x.from === a.addr && x.seg.payload.length > 0);
    const ack = log.find((x) => x.from === b.addr && x.seg.payload.length === 0);
    if (data === undefined || ack === undefined) throw new Error('no data or no ACK\n' + net.dump());
    return (ack.at - data.at - ms(1)) / 1000;
  }

  it('a 41 ms delayed-ACK timeout is 41 ms at HZ=1000 and 11 ticks = 44 ms at HZ=250', () => {
    expect(delackAfter(1000)).toBe(41);
    expect(delackAfter(250)).toBe(44);
  });
});
