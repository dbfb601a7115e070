import { describe, expect, it } from 'vitest';
import { Duration } from '../time/duration.js';
import { Instant, instantAdd } from '../time/instant.js';
import { ipv4 } from '../wire/address.js';
import { TcpFlag } from '../wire/tcp.js';
import { tcpConfig } from './config.js';
import { nextSegment } from './output.js';
import { RackState } from './rack.js';
import { connectedPair, toRepr } from './harness.fixtures.js';
import { sendQueue } from './send-memory.js';
import { TcpState } from './state.js';
import { NOT_ARMED, Tcb } from './tcb.js';

const T0 = instantAdd(Instant.ZERO, Duration.fromSecs(5));

/** An ESTABLISHED TCB with nothing in flight and an open window both ways (seeded ISS). */
function established(): Tcb {
  const t = new Tcb(Instant.ZERO, tcpConfig({ noDelay: true }), { addr: ipv4('10.0.0.1'), port: 40000 }, { addr: ipv4('10.0.0.2'), port: 80 }, 1000);
  t.state = TcpState.ESTABLISHED;
  t.sndUna = t.sndNxt = t.sndMax = 1001;
  t.sndWnd = t.maxSndWnd = 65535;
  t.mss = 1460;
  t.rcvNxt = 7000;
  t.rcvAdv = 7000 + 65535;
  return t;
}

describe('output: the drain ends with the segment that sends the last queued byte (sentAll, issue 9)', () => {
  it('one small write: the data segment says the drain is done, and the call it saves indeed sends nothing', () => {
    const t = established();
    expect(sendQueue(t, new Uint8Array([1, 2, 3]))).toBe(3);
    const seg = nextSegment(t, T0);
    expect(seg?.payloadLength).toBe(3);
    expect(t.sentAll).toBe(true);
    expect(nextSegment(t, T0)).toBeUndefined();
    // Every call starts afresh: an empty answer never claims the drain is done.
    expect(t.sentAll).toBe(false);
  });

  it('a segment arriving after the poll (nested delivery) cancels the early end', () => {
    const { a, c, s } = connectedPair({ seed: 3, client: { noDelay: true }, settle: Duration.fromMillis(100) });
    c.send(new Uint8Array([1]));
    const now = a.net.now;
    expect(c.poll(now)?.payloadLength).toBe(1);
    // The server's own segment arrives before the owner asks drainDone.
    s.send(new Uint8Array([2]));
    const out = s.poll(now);
    expect(out?.payloadLength).toBe(1);
    c.input(now, toRepr(out!));
    expect(c.drainDone()).toBe(false);
  });

  it('a write larger than a segment: only its last segment ends the drain', () => {
    const t = established();
    sendQueue(t, new Uint8Array(2000));
    expect(nextSegment(t, T0)?.payloadLength).toBe(1460 - 0);
    expect(t.sentAll).toBe(false);
    expect(nextSegment(t, T0)?.payloadLength).toBe(540);
    expect(t.sentAll).toBe(true);
    expect(nextSegment(t, T0)).toBeUndefined();
  });

  it('an extra ACK owed (out-of-order burst, RFC 5681 4.2) still goes after the data: not done', () => {
    const t = established();
    t.extraAcks = 1;
    sendQueue(t, new Uint8Array(3));
    expect(nextSegment(t, T0)?.payloadLength).toBe(3);
    expect(t.sentAll).toBe(false);
    const ack = nextSegment(t, T0);
    expect(ack?.payloadLength).toBe(0);
    expect(ack?.header.flags).toBe(TcpFlag.ACK);
  });

  it('a probe due still goes after the data: not done', () => {
    const t = established();
    t.probeDue = true;
    sendQueue(t, new Uint8Array(3));
    expect(nextSegment(t, T0)?.payloadLength).toBe(3);
    expect(t.sentAll).toBe(false);
    const probe = nextSegment(t, T0);
    expect(probe?.payloadLength).toBe(0);
    expect(probe?.header.seq).toBe(1000); // SND.UNA - 1
  });
});

describe('output: an empty poll answers at once when nothing is due (quiet, issue 9)', () => {
  /** Three bytes sent at T0 and unacknowledged: the RTO and the PTO are armed. */
  function inFlight(): Tcb {
    const t = established();
    t.sackOk = true;
    sendQueue(t, new Uint8Array(3));
    expect(nextSegment(t, T0)?.payloadLength).toBe(3);
    return t;
  }

  it('nothing due: undefined, nothing changed but lastNow', () => {
    const t = inFlight();
    const later = instantAdd(T0, Duration.fromMillis(1));
    const before = { rtoAt: t.rtoAt, tlpAt: t.tlpAt, sndNxt: t.sndNxt, rcvAdv: t.rcvAdv };
    expect(nextSegment(t, later)).toBeUndefined();
    expect({ rtoAt: t.rtoAt, tlpAt: t.tlpAt, sndNxt: t.sndNxt, rcvAdv: t.rcvAdv }).toEqual(before);
    expect(t.lastNow).toBe(later);
  });

  // Each case raises one thing the full path acts on; dropping its test from quiet() fails it.
  const sends: [string, (t: Tcb) => Instant, (seg: NonNullable<ReturnType<typeof nextSegment>>) => void][] = [
    ['an ACK owed', (t) => ((t.ackNow = true), T0), (s) => expect(s.header.flags).toBe(TcpFlag.ACK)],
    ['an extra ACK owed', (t) => ((t.extraAcks = 1), T0), (s) => expect(s.header.flags).toBe(TcpFlag.ACK)],
    ['a probe owed', (t) => ((t.probeDue = true), T0), (s) => expect(s.header.seq).toBe(1000)],
    ['a fast retransmit owed', (t) => ((t.retransmitDue = true), T0), (s) => expect(s.payloadLength).toBe(3)],
    ['a loss probe owed', (t) => ((t.tlpDue = true), T0), (s) => expect(s.payloadLength).toBe(3)],
    ['the RTO due', (t) => ((t.tlpAt = NOT_ARMED), t.rtoAt), (s) => expect(s.payloadLength).toBe(3)],
    ['the PTO due', (t) => ((t.rtoAt = instantAdd(t.tlpAt, Duration.fromSecs(1))), t.tlpAt), (s) => expect(s.payloadLength).toBe(3)],
    ['the delayed ACK due', (t) => ((t.delackAt = instantAdd(T0, Duration.fromMillis(40))), t.delackAt), (s) => expect(s.header.flags).toBe(TcpFlag.ACK)],
    ['the persist timer due on a zero window', (t) => ((t.sndWnd = 0), (t.persistAt = T0), T0), (s) => expect(s.header.seq).toBe(1000)],
    ['data not sent yet', (t) => (sendQueue(t, new Uint8Array(2)), T0), (s) => expect(s.payloadLength).toBe(2)],
    ['a FIN queued', (t) => ((t.finQueued = true), (t.finSeq = 1004), T0), (s) => expect(s.header.flags & TcpFlag.FIN).toBe(TcpFlag.FIN)],
    ['a window update owed', (t) => ((t.rcvAdv = t.rcvNxt), T0), (s) => expect(s.header.window).toBeGreaterThan(0)],
    ['a RST owed', (t) => ((t.rstDue = t.header(T0, t.sndMax, TcpFlag.RST)), T0), (s) => expect(s.header.flags).toBe(TcpFlag.RST)],
    ['a SYN-ACK owed outside ESTABLISHED', (t) => ((t.state = TcpState.SYN_RECEIVED), (t.synDue = true), T0), (s) => expect(s.header.flags).toBe(TcpFlag.SYN | TcpFlag.ACK)],
  ];
  for (const [what, setup, check] of sends) {
    it(`${what}: the full path sends it`, () => {
      const t = inFlight();
      const now = setup(t);
      const seg = nextSegment(t, now);
      expect(seg).toBeDefined();
      check(seg!);
    });
  }

  it('the keepalive timer due: a probe', () => {
    const t = established();
    t.opts = { ...t.opts, keepAlive: true };
    const seg = nextSegment(t, instantAdd(Instant.ZERO, Duration.fromSecs(7200)));
    expect(seg?.header.seq).toBe(1000);
  });

  it('the FIN-WAIT-2 timer due (an orphan, tcp_fin_timeout): it closes the connection', () => {
    const t = established();
    t.state = TcpState.FIN_WAIT_2;
    t.finWait2At = T0;
    expect(nextSegment(t, T0)).toBeUndefined();
    expect(t.state).toBe(TcpState.CLOSED);
  });

  it('the RACK reorder timer due: it fires', () => {
    const t = inFlight();
    const rack = (t.sb.rack ??= new RackState());
    rack.timerAt = T0;
    nextSegment(t, T0);
    expect(rack.timerAt).toBe(-1);
  });

  it('a persist timer due with the window open: it re-arms (SWS override)', () => {
    const t = inFlight();
    t.persistAt = T0;
    nextSegment(t, T0);
    expect(t.persistAt).toBeGreaterThan(T0);
  });

  it('forceSend is spent by a poll, as the full path does', () => {
    const t = inFlight();
    t.forceSend = true;
    expect(nextSegment(t, T0)).toBeUndefined();
    expect(t.forceSend).toBe(false);
  });

  it('timerFlush is spent by a poll, as the full path does', () => {
    const t = inFlight();
    t.timerFlush = true;
    expect(nextSegment(t, T0)).toBeUndefined();
    expect(t.timerFlush).toBe(false);
  });

  it('passed MSG_EOR marks are dropped by a poll, as the full path does', () => {
    const t = inFlight();
    t.eorSeqs = [1001];
    expect(nextSegment(t, T0)).toBeUndefined();
    expect(t.eorSeqs).toEqual([]);
  });
});
