// Idle connections hold no buffer memory (issue 9: 100 000 connections in
// one process): the receive store goes back to the pool once the reader has
// drained it, the send store once everything sent was acknowledged (both
// once the connection goes quiet: a request/response exchange keeps them),
// and while data waits the stores are sized by it, not by the window.
import { describe, expect, it } from 'vitest';
import { Duration } from '../time/duration.js';
import { Net } from './harness.fixtures.js';
import type { TcpConnection } from './connection.js';

function pair(): { net: Net; c: TcpConnection; s: TcpConnection } {
  const net = new Net(7);
  const a = net.host('10.0.0.1');
  const b = net.host('10.0.0.2');
  const l = b.listen(80);
  const c = a.connect(b, 80);
  let s: TcpConnection | undefined;
  net.run(Duration.fromSecs(10), () => (s ??= l.accept()) !== undefined);
  if (s === undefined) throw new Error('no connection');
  return { net, c, s };
}

describe('TCP buffer memory', () => {
  it('holds none after the handshake', () => {
    const { c, s } = pair();
    expect(c.bufferBytes).toBe(0);
    expect(s.bufferBytes).toBe(0);
  });

  it('sizes the stores by the data queued, and frees them once read and acknowledged', () => {
    const { net, c, s } = pair();
    const data = new Uint8Array(10_000).map((_, i) => i & 0xff);
    expect(c.send(data)).toBe(data.length);
    // Queued, not yet sent: a store for 10 000 bytes, not the 64 KiB send buffer.
    expect(c.bufferBytes).toBe(16_384);
    net.run(Duration.fromSecs(1));
    // Acknowledged: the sender's store is gone; the unread data holds the receiver's.
    expect(c.bufferBytes).toBe(0);
    expect(s.recvAvailable).toBe(data.length);
    expect(s.bufferBytes).toBeGreaterThanOrEqual(data.length);
    expect(s.bufferBytes).toBeLessThan(131_072);
    const got = new Uint8Array(20_000);
    expect(s.recv(got.subarray(0, 4000))).toBe(4000);
    expect(s.bufferBytes).toBeGreaterThan(0); // not drained yet
    expect(s.recv(got.subarray(4000))).toBe(6000);
    expect(got.subarray(0, 10_000)).toEqual(data);
    expect(s.bufferBytes).toBe(0);
    // And both directions work again afterwards.
    expect(s.send(Uint8Array.of(1, 2, 3))).toBe(3);
    net.run(Duration.fromSecs(1));
    expect(c.recv(got)).toBe(3);
    expect(c.bufferBytes + s.bufferBytes).toBe(0);
  });

  it('keeps the stores through a request/response exchange, and frees them once it goes quiet', () => {
    // issue 9: a store given back on every round trip was taken again at
    // once; the delayed-ACK timer (client) and the bare ACK of the last
    // reply (server) are what give them back.
    const { net, c, s } = pair();
    const b = new Uint8Array(1);
    const ring = (): void => {
      expect(c.send(Uint8Array.of(0x2a))).toBe(1);
      expect(net.run(Duration.fromSecs(1), () => s.recvAvailable === 1)).toBe(true);
      expect(s.recv(b)).toBe(1);
      expect(s.send(b)).toBe(1);
      expect(net.run(Duration.fromSecs(1), () => c.recvAvailable === 1)).toBe(true);
      expect(c.recv(b)).toBe(1);
      expect(b[0]).toBe(0x2a);
    };
    for (let i = 0; i < 5; i++) ring();
    // Mid-exchange (pingpong: the client's ACK waits for its next request).
    expect(c.bufferBytes).toBeGreaterThan(0);
    expect(s.bufferBytes).toBeGreaterThan(0);
    net.run(Duration.fromSecs(1));
    expect(c.bufferBytes).toBe(0);
    expect(s.bufferBytes).toBe(0);
    // And an exchange works again afterwards.
    ring();
  });

  it('frees the stores on a read whose ACK goes out at once, with no timer left to do it', () => {
    // Linux tcp_cleanup_rbuf: draining a pushed segment whose ACK waits on
    // the delayed-ACK timer (not pingpong) ACKs now, which disarms the timer.
    const { net, c, s } = pair();
    const b = new Uint8Array(8);
    for (let i = 0; i < 40; i++) {
      expect(s.send(Uint8Array.of(i))).toBe(1);
      expect(net.run(Duration.fromSecs(1), () => c.recvAvailable === 1)).toBe(true);
      expect(c.recv(b)).toBe(1);
      net.run(Duration.fromMillis(1));
      expect(c.bufferBytes, `exchange ${i}`).toBe(0);
    }
  });
});
