import { describe, expect, it } from 'vitest';
import { Duration } from '../time/duration.js';
import { Instant, instantAdd } from '../time/instant.js';
import { ipv4 } from '../wire/address.js';
import { TcpFlag } from '../wire/tcp.js';
import { tcpConfig } from './config.js';
import { nextSegment } from './output.js';
import { sendQueue } from './send-memory.js';
import { TcpState } from './state.js';
import { Tcb } from './tcb.js';

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
