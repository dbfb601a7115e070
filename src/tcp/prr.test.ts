import { describe, expect, it } from 'vitest';
import { Duration } from '../time/duration.js';
import { connectedPair, drain } from './harness.fixtures.js';
import type { TcpConfig } from './config.js';
import { prrOnAck, prrOnSend, prrStart } from './prr.js';
import type { Tcb } from './tcb.js';

const MSS = 1000;

/** Just the fields PRR reads and writes. */
function fakeTcb(ssthresh: number, cwnd = ssthresh) {
  const t = { mss: MSS, cc: { ssthresh, cwnd }, prrDelivered: 0, prrOut: 0, prrRecoverFs: 1, prrCwnd: 0 };
  return { t, tcb: t as unknown as Tcb };
}

describe('RFC 6937 proportional rate reduction (arithmetic)', () => {
  it('3.1: while pipe > ssthresh, sends ssthresh/RecoverFS of what is delivered (Reno: one for every two)', () => {
    const { t, tcb } = fakeTcb(10 * MSS);
    prrStart(tcb, 20 * MSS);
    let pipe = 19 * MSS; // one segment lost, the rest in flight
    const sent: number[] = [];
    for (let i = 0; i < 8; i++) {
      // Each duplicate ACK reports one more segment delivered and takes it out of pipe.
      pipe -= MSS;
      prrOnAck(tcb, MSS, pipe);
      // Only whole segments go (output.ts sends while the room is at least one MSS).
      const sndcnt = t.prrCwnd - pipe >= MSS ? MSS : 0;
      sent.push(sndcnt);
      prrOnSend(tcb, sndcnt);
      pipe += sndcnt;
    }
    // The first ACK always lets the fast retransmit go (Linux); then one segment per two delivered.
    expect(sent).toEqual([MSS, 0, 0, MSS, 0, MSS, 0, MSS]);
    expect(t.prrOut).toBe(4 * MSS);
  });

  it('3.1 PRR-SSRB: below ssthresh, grows back no faster than slow start (delivered + 1 MSS)', () => {
    const { t, tcb } = fakeTcb(10 * MSS);
    prrStart(tcb, 20 * MSS);
    t.prrDelivered = 12 * MSS;
    t.prrOut = 6 * MSS;
    // A big ACK (4 segments delivered) with pipe far below ssthresh.
    prrOnAck(tcb, 4 * MSS, 2 * MSS);
    // limit = max(16 - 6, 4) + 1 = 11 segments, ssthresh - pipe = 8: sends 8.
    expect(t.prrCwnd - 2 * MSS).toBe(8 * MSS);
    t.prrOut = 16 * MSS;
    prrOnAck(tcb, MSS, 3 * MSS);
    // limit = max(17 - 16, 1) + 1 = 2 segments: no burst.
    expect(t.prrCwnd - 3 * MSS).toBe(2 * MSS);
  });

  it('an ACK that delivers nothing sends nothing', () => {
    const { t, tcb } = fakeTcb(7 * MSS);
    prrStart(tcb, 10 * MSS);
    prrOnAck(tcb, 0, 9 * MSS);
    expect(t.prrCwnd).toBe(7 * MSS);
  });
});

function connected(config: Partial<TcpConfig>) {
  return connectedPair({
    seed: 11,
    client: { noDelay: true, timestamps: false, initialWindowSegments: 20, ...config },
    server: { timestamps: false, quickAcks: 1000 },
    settle: Duration.fromMillis(100),
  });
}

describe('RFC 6937 in SACK recovery', () => {
  it('a loss is repaired without a timeout; recovery ends with cwnd = ssthresh (RFC 6937 3, on exit)', () => {
    const { net, a, c, s } = connected({ congestionControl: 'reno' });
    const mss = c.info.mss;
    let n = 0;
    net.dropIf = (seg, from) => from === a.addr && seg.payload.length > 0 && ++n === 1;
    c.send(new Uint8Array(40 * mss));
    const got: number[] = [];
    net.run(Duration.fromSecs(5), () => drain(s, got) >= 0 && got.length === 40 * mss && c.info.sndUna === c.info.sndNxt);
    expect(got.length).toBe(40 * mss);
    expect(c.timeouts).toBe(0);
    // Reno halves the 20-segment flight; the window then grows in congestion avoidance only.
    expect(c.info.ssthresh).toBe(10 * mss);
    expect(c.info.cwnd).toBeGreaterThanOrEqual(10 * mss);
    expect(c.info.cwnd).toBeLessThan(12 * mss);
  });
});
