/**
 * The Stack's deadline cache (issue 9, DeadlineWatch): the parts that raise
 * the watch are asked for their pollAt() only after they did, so each test
 * changes one part's deadline outside any stack work (no wake(), no poll)
 * and checks the stack's timer follows it: without that part's raising the
 * watch, the stack keeps its stale cached answer and the test fails.
 */
import { describe, expect, it } from 'vitest';
import { IgmpProtocol } from '../igmp/igmp-host.js';
import type { Link } from '../link/link.js';
import { LinkType } from '../link/link.js';
import { Duration } from '../time/duration.js';
import { instantAdd } from '../time/instant.js';
import { ManualClock } from '../time/manual-clock.js';
import { ipv4, mac } from '../wire/address.js';
import type { Ipv4Repr } from '../wire/ipv4.js';
import { Stack } from './stack.js';
import { DeadlineProtocol } from './deadline-protocol.fixtures.js';
import { RecordingClock } from './recording-clock.fixtures.js';

/** An Ethernet link that sends nowhere and never delivers. */
function deadLink(): Link {
  return {
    linkType: LinkType.Ethernet,
    mtu: 1500,
    mac: mac('02:00:00:00:00:01'),
    send(): void {},
    setReceiver(): void {},
    close(): void {},
  };
}

/** A simulated clock's stack with one Ethernet interface, its start-up wake-up done. */
function exactStack(): { clock: ManualClock; stack: Stack } {
  const clock = new ManualClock();
  const stack = new Stack({ clock, seed: 1 });
  stack.addInterface(deadLink(), { address: '10.0.0.1/24' });
  clock.advance(Duration.fromMillis(0));
  // Settles the cache: what construction and addInterface raised is read now.
  stack.reschedule(clock.now());
  return { clock, stack };
}

describe('Stack deadline cache (DeadlineWatch)', () => {
  it('reassembly: a new incomplete datagram arms its expiry', () => {
    const { clock, stack } = exactStack();
    expect(stack.nextPollAt).toBeUndefined();
    const now = clock.now();
    const frag: Ipv4Repr = {
      src: ipv4('10.0.0.2'),
      dst: ipv4('10.0.0.1'),
      protocol: 253,
      ttl: 64,
      dscp: 0,
      ecn: 0,
      identification: 9,
      dontFragment: false,
      moreFragments: true,
      fragmentOffset: 0,
      options: new Uint8Array(0),
      payload: new Uint8Array(8),
    };
    expect(stack.reassembler.input(now, frag, new Uint8Array(28)).kind).not.toBe('complete');
    stack.reschedule(now);
    expect(stack.nextPollAt).toBe(instantAdd(now, stack.reassembler.timeout));
    stack.close();
  });

  it('neighbour cache: a resolution started arms its retry', () => {
    const { clock, stack } = exactStack();
    const nc = stack.interfaces[1]!.neighbours!;
    const now = clock.now();
    nc.resolve(now, ipv4('10.0.0.9'), undefined as never);
    const retry = nc.pollAt();
    expect(retry).toBeDefined();
    stack.reschedule(now);
    expect(stack.nextPollAt).toBe(retry);
    // And a change that moves it later (the neighbour answered) is followed exactly.
    nc.update(now, ipv4('10.0.0.9'), mac('02:00:00:00:00:09'), false);
    stack.reschedule(now);
    expect(stack.nextPollAt).toBe(nc.pollAt());
    expect(stack.nextPollAt).not.toBe(retry);
    stack.close();
  });

  it('igmp: a membership joined arms its first report', () => {
    const { clock, stack } = exactStack();
    // A wake-up that does nothing: only the watch can tell the stack.
    const igmp = new IgmpProtocol(stack.rng, stack.stats, () => {});
    stack.registerProtocol(igmp);
    clock.advance(Duration.fromMillis(0));
    expect(stack.nextPollAt).toBeUndefined();
    const now = clock.now();
    igmp.join(now, stack.interfaces[1]!, ipv4('239.1.2.3'));
    expect(igmp.pollAt()).toBe(now);
    stack.reschedule(now);
    expect(stack.nextPollAt).toBe(now);
    stack.close();
  });

  it('ping: the reply that ends a session clears its timeout', async () => {
    const clock = new ManualClock();
    const stack = new Stack({ clock, seed: 1 });
    const done = stack.ping('127.0.0.1', { count: 1, timeout: Duration.fromSecs(5) });
    // The poll sends the request, the loopback brings the reply back: the
    // session is over, nothing is left to time out.
    for (let i = 0; i < 5; i++) clock.advance(Duration.fromMillis(0));
    const r = await done;
    expect(r.received).toBe(1);
    expect(stack.nextPollAt).toBeUndefined();
    stack.close();
  });

  it('lazy timers: rescheduleFor re-arms for a watched deadline that a live protocol call started (an ARP retry)', () => {
    const clock = new RecordingClock();
    const stack = new Stack({ clock, seed: 1 });
    const iface = stack.addInterface(deadLink(), { address: '10.0.0.1/24' });
    const p = new DeadlineProtocol();
    stack.registerProtocol(p);
    clock.fireDue();
    clock.armed.length = 0;
    const now = clock.now();
    // The protocol's own deadline, far: the timer is armed for it.
    p.at = instantAdd(now, Duration.fromSecs(60));
    stack.rescheduleFor(now, p.at);
    expect(clock.armed).toEqual([p.at]);
    // Its next call sends to an unresolved neighbour (ARP retry in 1 s) and
    // tells the stack only its own, unchanged, deadline.
    iface.neighbours!.resolve(now, ipv4('10.0.0.9'), undefined as never);
    const retry = iface.neighbours!.pollAt()!;
    expect(retry < p.at).toBe(true);
    stack.rescheduleFor(now, p.at);
    expect(clock.armed).toEqual([p.at, retry]);
    stack.close();
  });
});
