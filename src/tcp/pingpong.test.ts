/**
 * Linux's interactive ("pingpong") delayed-ACK mode: once a side answers
 * data within the delayed-ACK timeout, its ACKs wait to ride on the reply
 * instead of going out bare when the application drains the receive buffer
 * (tcp_event_data_sent, tcp_cleanup_rbuf, tcp_in_quickack_mode,
 * tcp_delack_timer_handler).
 */
import { describe, expect, it } from 'vitest';
import { Duration } from '../time/duration.js';
import type { Net} from './harness.fixtures.js';
import { connectedPair, drain } from './harness.fixtures.js';
import type { TcpConnection } from './connection.js';
import type { TcpConfig } from './config.js';

function connected(config: Partial<TcpConfig> = {}) {
  return connectedPair({ seed: 11, latency: Duration.fromMillis(1), client: config, server: config });
}

const ONE = new Uint8Array([0x2a]);

/** One 1-byte request from `c`, answered by `s` as soon as it is readable, read by `c`. */
function exchange(net: Net, c: TcpConnection, s: TcpConnection, replyDelay = Duration.ZERO): void {
  expect(c.send(ONE)).toBe(1);
  const sink: number[] = [];
  if (!net.run(Duration.fromSecs(1), () => drain(s, sink) > 0)) throw new Error('request lost\n' + net.dump());
  if (replyDelay > 0) net.run(replyDelay);
  expect(s.send(ONE)).toBe(1);
  if (!net.run(Duration.fromSecs(1), () => drain(c, sink) > 0)) throw new Error('reply lost\n' + net.dump());
  expect(sink).toEqual([0x2a, 0x2a]);
}

/** Segments sent while `f` runs, and how many of them carried no data. */
function frames(net: Net, f: () => void): { total: number; bare: number } {
  const start = net.log.length;
  f();
  net.run(Duration.fromMillis(5)); // let anything owed at once go out
  const segs = net.log.slice(start);
  return { total: segs.length, bare: segs.filter((x) => x.seg.payload.length === 0).length };
}

describe('pingpong (interactive) delayed ACKs', () => {
  it('a 1-byte request/response loop settles at 2 frames per exchange: each ACK rides on the reply', () => {
    const { net, c, s } = connected({ noDelay: true });
    for (let i = 0; i < 3; i++) exchange(net, c, s);
    const n = 50;
    const got = frames(net, () => {
      for (let i = 0; i < n; i++) exchange(net, c, s);
    });
    expect(got).toEqual({ total: 2 * n, bare: 0 });
  });

  it('without delayed ACKs every request and reply is ACKed bare: 4 frames per exchange', () => {
    const { net, c, s } = connected({ noDelay: true, delayedAck: false });
    for (let i = 0; i < 3; i++) exchange(net, c, s);
    const got = frames(net, () => {
      for (let i = 0; i < 10; i++) exchange(net, c, s);
    });
    expect(got).toEqual({ total: 40, bare: 20 });
  });

  it('a reply slower than the delayed-ACK timeout gets a bare ACK first and leaves pingpong mode', () => {
    const { net, c, s } = connected({ noDelay: true });
    for (let i = 0; i < 5; i++) exchange(net, c, s);
    // The server sits on the request past 40 ms: its delayed-ACK timer sends the ACK bare.
    const slow = frames(net, () => exchange(net, c, s, Duration.fromMillis(60)));
    expect(slow).toEqual({ total: 3, bare: 1 });
    // Out of pingpong on the server, the next request is ACKed by a quick ACK
    // (quick ACKs are suspended only while interactive), then pingpong resumes.
    const next = frames(net, () => exchange(net, c, s));
    expect(next.bare).toBe(1);
    const after = frames(net, () => {
      for (let i = 0; i < 5; i++) exchange(net, c, s);
    });
    expect(after).toEqual({ total: 10, bare: 0 });
  });

  it('a second pushed segment before the reply (ICSK_ACK_PUSHED2) is ACKed when the reader drains', () => {
    const { net, c, s } = connected({ noDelay: true });
    for (let i = 0; i < 5; i++) exchange(net, c, s);
    const start = net.log.length;
    const sink: number[] = [];
    c.send(ONE);
    net.run(Duration.fromMillis(3));
    c.send(ONE);
    net.run(Duration.fromMillis(3));
    expect(drain(s, sink)).toBe(2);
    net.run(Duration.fromMillis(1));
    const bareFromServer = net.log.slice(start).filter((x) => x.seg.payload.length === 0 && x.seg.srcPort === 80);
    expect(bareFromServer).toHaveLength(1);
  });
});
