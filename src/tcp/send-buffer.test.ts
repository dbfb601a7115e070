/**
 * Send-buffer auto-tuning (Linux tcp_sndbuf_expand) and the "pushed" quick
 * ACK (Linux tcp_cleanup_rbuf, ICSK_ACK_PUSHED), on the two-host harness.
 */
import { describe, expect, it } from 'vitest';
import { Duration } from '../time/duration.js';
import { TcpFlag } from '../wire/tcp.js';
import type { TcpConfig } from './config.js';
import { connectedPair, drain } from './harness.fixtures.js';
import { SKB_OVERHEAD } from './send-memory.js';

function connected(config: Partial<TcpConfig> = {}, configB: Partial<TcpConfig> = config) {
  return connectedPair({ seed: 3, client: config, server: configB, settle: Duration.fromMillis(100) });
}

describe('send-buffer auto-tuning (Linux tcp_sndbuf_expand)', () => {
  it('grows to two initial windows at establishment, then with cwnd, up to sendBufferMax', () => {
    const { net, c, s } = connected({ sendBufferSize: 16384, sendBufferMax: 1 << 20 }, { recvBufferSize: 1 << 20, recvBufferMax: 1 << 20 });
    // At least 2 * 10 segments of 1460 bytes once the handshake is done (it grows by
    // doubling), counted in truesize as sk_sndbuf is: at the handshake's pacing rate
    // an skb carries tcp_min_tso_segs (2) segments, so 10 skbs plus a partial one at
    // each end, SKB_OVERHEAD each (send-memory.ts chargeFor).
    expect(c.info.sendBufferSize).toBe(Math.max(2 * 10 * 1460 + 12 * SKB_OVERHEAD, 2 * 16384));
    const sink: number[] = [];
    let sent = 0;
    const chunk = new Uint8Array(65536);
    net.run(Duration.fromSecs(5), () => {
      sent += c.send(chunk);
      drain(s, sink);
      return sent > 32 << 20;
    });
    expect(c.info.sendBufferSize).toBe(1 << 20);
  });

  it('stays fixed when sendBufferMax equals sendBufferSize (SO_SNDBUF set)', () => {
    const { net, c, s } = connected({ sendBufferSize: 16384, sendBufferMax: 16384 });
    const sink: number[] = [];
    let sent = 0;
    net.run(Duration.fromSecs(2), () => {
      sent += c.send(new Uint8Array(4096));
      drain(s, sink);
      return sent > 1 << 20;
    });
    expect(c.info.sendBufferSize).toBe(16384);
  });
});

describe('quick ACK after a pushed segment is read (Linux ICSK_ACK_PUSHED)', () => {
  for (const read of [true, false]) {
    it(read ? 'the ACK goes as soon as the application drains the buffer' : 'without a read it waits for the delayed-ACK timer', () => {
      const { net, a, b, c, s } = connected({ quickAcks: 0, noDelay: true });
      c.send(new Uint8Array(1000));
      const start = net.log.length;
      // Deliver the segment (10 ms latency), but not yet the delayed ACK (40 ms).
      net.run(Duration.fromMillis(15));
      expect(s.recvAvailable).toBe(1000);
      const t0 = net.now;
      if (read) {
        expect(s.recv(new Uint8Array(2000))).toBe(1000);
        b.flush(net.now);
      }
      net.run(Duration.fromMillis(60));
      const ack = net.log.slice(start).find((x) => x.from === b.addr && (x.seg.flags & TcpFlag.ACK) !== 0 && x.seg.payload.length === 0);
      expect(ack).toBeDefined();
      const delay = ack!.at - t0;
      if (read) expect(delay).toBe(0);
      else expect(delay).toBeGreaterThanOrEqual(Duration.fromMillis(20));
      expect(a.addr).not.toBe(b.addr);
    });
  }
});
