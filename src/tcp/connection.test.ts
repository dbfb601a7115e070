import { describe, expect, it } from 'vitest';
import { TcpFlag, TcpReprScratch, emitTcp, parseTcpInto } from '../wire/tcp.js';
import { ipv4 } from '../wire/address.js';
import { Duration } from '../time/duration.js';
import { Instant } from '../time/instant.js';
import { Net, connectedPair, drain } from './harness.fixtures.js';
import type { Host } from './harness.fixtures.js';
import { TcpState } from './state.js';
import { TcpConnection } from './connection.js';
import { tcpConfig } from './config.js';

function pair(config: Parameters<Net['host']>[1] = {}, configB = config): { net: Net; a: Host; b: Host } {
  const net = new Net(7);
  const a = net.host('10.0.0.1', config);
  const b = net.host('10.0.0.2', configB);
  return { net, a, b };
}

function connected(config: Parameters<Net['host']>[1] = {}, configB = config) {
  return connectedPair({ seed: 7, client: config, server: configB });
}

const text = (s: string) => new TextEncoder().encode(s);

describe('TcpConnection handshake', () => {
  it('three-way handshake: SYN, SYN-ACK, ACK, both ESTABLISHED', () => {
    const { net, c, s } = connected();
    expect(c.state).toBe(TcpState.ESTABLISHED);
    expect(s.state).toBe(TcpState.ESTABLISHED);
    const flags = net.log.slice(0, 3).map((x) => x.seg.flags);
    expect(flags).toEqual([TcpFlag.SYN, TcpFlag.SYN | TcpFlag.ACK, TcpFlag.ACK]);
  });

  it('MUST-14: MSS, window scale, timestamps and SACK are negotiated (Linux defaults)', () => {
    const { c, s } = connected({}, { recvBufferMax: 1 << 20 });
    expect(c.info.mss).toBe(1460);
    expect(c.info.timestamps).toBe(true);
    expect(c.info.sack).toBe(true);
    expect(s.info.timestamps).toBe(true);
    // The scale each side applies to the other's window is what the other announced.
    expect(c.info.sndWscale).toBe(s.info.rcvWscale);
    expect(s.info.sndWscale).toBe(c.info.rcvWscale);
    expect(c.info.rcvWscale).toBe(7); // 6 MiB max buffer
    expect(s.info.rcvWscale).toBe(5); // 1 MiB
  });

  it('RFC 7323 / RFC 2018: options are off when one side does not offer them', () => {
    const { c, s, net } = connected({ mtu: 1000 }, { timestamps: false, sack: false, windowScaling: false });
    expect(c.info.timestamps).toBe(false);
    expect(c.info.sack).toBe(false);
    expect(c.info.sndWscale).toBe(0);
    expect(c.info.rcvWscale).toBe(0);
    expect(s.info.rcvWscale).toBe(0);
    // MUST-16: effective send MSS is the minimum of both MSS options.
    expect(s.info.mss).toBe(960);
    expect(c.info.mss).toBe(960);
    // The SYN-ACK echoes nothing that was not offered.
    const synAck = net.log[1]!.seg;
    expect(synAck.options.some((o) => o.kind === 'timestamps' || o.kind === 'window-scale' || o.kind === 'sack-permitted')).toBe(false);
  });

  it('MUST-15: send MSS defaults to 536 when the SYN carries no MSS option', () => {
    const { net, a, b } = pair();
    const l = b.listen(80);
    a.connect(b, 80);
    // Strip the options from the SYN in flight.
    b.filterIn = (seg) => {
      if ((seg.flags & TcpFlag.SYN) !== 0 && seg.options.length > 0) {
        b.filterIn = undefined;
        b.deliver(net.now, a.addr, { ...seg, options: [] });
        return true;
      }
      return false;
    };
    let s: TcpConnection | undefined;
    net.run(Duration.fromSecs(5), () => (s ??= l.accept()) !== undefined);
    expect(s?.info.mss).toBe(536);
  });

  it('MUST-10: simultaneous open ends ESTABLISHED on both sides', () => {
    const { net, a, b } = pair();
    const c1 = a.connect(b, 5000, 6000);
    const c2 = b.connect(a, 6000, 5000);
    net.run(Duration.fromSecs(5), () => c1.state === TcpState.ESTABLISHED && c2.state === TcpState.ESTABLISHED);
    expect(c1.state).toBe(TcpState.ESTABLISHED);
    expect(c2.state).toBe(TcpState.ESTABLISHED);
    c1.send(text('ping'));
    c2.send(text('pong'));
    net.run(Duration.fromSecs(1));
    const x: number[] = [];
    const y: number[] = [];
    drain(c2, x);
    drain(c1, y);
    expect(String.fromCharCode(...x)).toBe('ping');
    expect(String.fromCharCode(...y)).toBe('pong');
  });

  it('RST to SYN: connect is refused (ECONNREFUSED)', () => {
    const { net, a, b } = pair();
    const c = a.connect(b, 81); // nobody listens
    net.run(Duration.fromSecs(5), () => c.isClosed);
    expect(c.state).toBe(TcpState.CLOSED);
    expect(c.error).toBe('ECONNREFUSED');
    expect(c.isClosed).toBe(true);
  });

  it('MUST-22: SYN retransmitted with exponential backoff, ETIMEDOUT after tcp_syn_retries', () => {
    const { net, a, b } = pair();
    const c = a.connect(b, 80);
    net.dropIf = () => true;
    net.run(Duration.fromSecs(600), () => c.isClosed);
    const syns = net.log.filter((x) => x.seg.flags === TcpFlag.SYN).map((x) => Instant.toSecs(x.at));
    expect(syns).toEqual([0, 1, 3, 7, 15, 31, 63]);
    expect(c.error).toBe('ETIMEDOUT');
    expect(Instant.toSecs(net.now)).toBe(127);
  });

  it('RFC 9293 3.10.7.2: a listener answers a bare ACK with RST and ignores RST', () => {
    const { net, a, b } = pair();
    b.listen(80);
    net.send(a, b.addr, { srcPort: 1234, dstPort: 80, seq: 5, ack: 777, flags: TcpFlag.ACK, window: 100, urgentPointer: 0, options: [] }, []);
    net.send(a, b.addr, { srcPort: 1234, dstPort: 80, seq: 5, ack: 0, flags: TcpFlag.RST, window: 0, urgentPointer: 0, options: [] }, []);
    net.run(Duration.fromSecs(1));
    const rsts = net.log.filter((x) => x.from === b.addr);
    expect(rsts).toHaveLength(1);
    expect(rsts[0]!.seg.flags).toBe(TcpFlag.RST);
    expect(rsts[0]!.seg.seq).toBe(777);
  });

  it('RFC 9293 3.10.7.3: data on a SYN-ACK parsed in place (TcpReprScratch) is queued after the handshake', () => {
    const now = Instant.ZERO;
    const local = { addr: ipv4('10.0.0.1'), port: 1000 };
    const remote = { addr: ipv4('10.0.0.2'), port: 80 };
    const c = TcpConnection.connect(now, tcpConfig({}), local, remote, 100);
    const iss = c.poll(now)!.header.seq;
    const buf = new Uint8Array(64);
    const payload = text('hi');
    const n = emitTcp(
      { srcPort: 80, dstPort: 1000, seq: 5000, ack: (iss + 1) >>> 0, flags: TcpFlag.SYN | TcpFlag.ACK, window: 1000, urgentPointer: 0, options: [], payload },
      buf,
    );
    // The stack's record: payload and options are accessors over the frame.
    const rec = new TcpReprScratch();
    expect(parseTcpInto(buf.subarray(0, n), false, remote.addr, local.addr, rec)).toBeUndefined();
    c.input(now, rec);
    expect(c.state).toBe(TcpState.ESTABLISHED);
    expect(c.recvAvailable).toBe(2);
    const got = new Uint8Array(2);
    expect(c.recv(got)).toBe(2);
    expect(got).toEqual(payload);
  });
});

describe('TcpConnection data transfer and close', () => {
  it('data both ways, in order', () => {
    const { net, c, s } = connected();
    c.send(text('hello '));
    c.send(text('world'));
    s.send(text('HELLO'));
    net.run(Duration.fromSecs(1));
    const x: number[] = [];
    drain(s, x);
    expect(String.fromCharCode(...x)).toBe('hello world');
    const y: number[] = [];
    drain(c, y);
    expect(String.fromCharCode(...y)).toBe('HELLO');
  });

  it('half-close: shutdownWrite sends FIN, the peer reads EOF and can still send', () => {
    const { net, c, s } = connected();
    c.send(text('request'));
    c.shutdownWrite();
    net.run(Duration.fromSecs(1));
    expect(c.state).toBe(TcpState.FIN_WAIT_2);
    expect(s.state).toBe(TcpState.CLOSE_WAIT);
    const x: number[] = [];
    drain(s, x);
    expect(String.fromCharCode(...x)).toBe('request');
    expect(s.eof).toBe(true);
    s.send(text('response'));
    net.run(Duration.fromSecs(1));
    const y: number[] = [];
    drain(c, y);
    expect(String.fromCharCode(...y)).toBe('response');
    s.close();
    net.run(Duration.fromSecs(1));
    expect(s.isClosed).toBe(true);
    expect(c.state).toBe(TcpState.TIME_WAIT);
  });

  it('MUST-13: the active closer stays in TIME-WAIT for 2 MSL, then closes', () => {
    const { net, c, s } = connected({ msl: Duration.fromSecs(30) });
    c.close();
    net.run(Duration.fromSecs(1), () => s.state === TcpState.CLOSE_WAIT);
    s.close();
    let enteredAt: Instant | undefined;
    net.run(Duration.fromSecs(1), () => {
      if (c.state === TcpState.TIME_WAIT) enteredAt ??= net.now;
      return s.isClosed;
    });
    expect(c.state).toBe(TcpState.TIME_WAIT);
    net.run(Duration.fromSecs(120), () => c.isClosed);
    expect(c.isClosed).toBe(true);
    expect(c.error).toBeUndefined();
    expect(Instant.toMicros(net.now) - Instant.toMicros(enteredAt!)).toBe(60_000_000);
  });

  it('close from the passive side first: LAST-ACK on one side, TIME-WAIT on the other', () => {
    const { net, c, s } = connected();
    s.close();
    net.run(Duration.fromSecs(1));
    expect(c.state).toBe(TcpState.CLOSE_WAIT);
    expect(s.state).toBe(TcpState.FIN_WAIT_2);
    c.close();
    net.run(Duration.fromSecs(1));
    expect(c.isClosed).toBe(true);
    expect(s.state).toBe(TcpState.TIME_WAIT);
  });

  it('simultaneous close: both FIN-WAIT-1 -> CLOSING -> TIME-WAIT', () => {
    const { net, c, s } = connected();
    c.close();
    s.close();
    const seen = new Set<string>();
    net.run(Duration.fromSecs(1), () => {
      seen.add(c.state);
      return c.state === TcpState.TIME_WAIT && s.state === TcpState.TIME_WAIT;
    });
    expect(c.state).toBe(TcpState.TIME_WAIT);
    expect(s.state).toBe(TcpState.TIME_WAIT);
    expect(seen.has(TcpState.CLOSING)).toBe(true);
  });

  it('MUST-12: abort sends RST and the peer reports ECONNRESET', () => {
    const { net, c, s } = connected();
    c.abort();
    net.run(Duration.fromSecs(1));
    expect(c.isClosed).toBe(true);
    expect(c.error).toBeUndefined();
    expect(s.state).toBe(TcpState.CLOSED);
    expect(s.error).toBe('ECONNRESET');
    expect(s.readable).toBe(true);
  });

  it('close() with unread data resets the connection (RFC 2525 2.17, Linux)', () => {
    const { net, c, s } = connected();
    c.send(text('unread'));
    net.run(Duration.fromSecs(1));
    s.close();
    net.run(Duration.fromSecs(1));
    expect(c.error).toBe('ECONNRESET');
  });

  it('recv with peek does not consume', () => {
    const { net, c, s } = connected();
    c.send(text('abc'));
    net.run(Duration.fromSecs(1));
    const buf = new Uint8Array(10);
    expect(s.recv(buf, { peek: true })).toBe(3);
    expect(s.recvAvailable).toBe(3);
    expect(s.recv(buf)).toBe(3);
    expect(s.recvAvailable).toBe(0);
  });

  it('RFC 7323 2: with window scaling the peer sees a window above 64 KiB; without, at most 65535', () => {
    for (const windowScaling of [true, false]) {
      const { net, c, s } = connected({ recvBufferSize: 1 << 20, windowScaling });
      // The window of a SYN is never scaled (RFC 7323 2.2): the first later segment carries the real one.
      s.send(text('x'));
      net.run(Duration.fromSecs(1));
      if (windowScaling) expect(c.info.sndWnd).toBeGreaterThan(65535);
      else expect(c.info.sndWnd).toBeLessThanOrEqual(65535);
    }
  });

  it('TCP_CORK holds a partial segment until uncorked (or, as in Linux, about 200 ms)', () => {
    const { net, a, c } = connected({ cork: true, noDelay: true });
    const start = net.log.length;
    c.send(text('partial'));
    net.run(Duration.fromMillis(150));
    expect(net.log.slice(start).filter((x) => x.from === a.addr && x.seg.payload.length > 0)).toHaveLength(0);
    c.setCork(false);
    net.run(Duration.fromMillis(1));
    expect(net.log.slice(start).filter((x) => x.from === a.addr && x.seg.payload.length > 0)).toHaveLength(1);
  });

  it('onEvent and version signal readable data, EOF and state changes', () => {
    const { net, c, s } = connected();
    let events = 0;
    s.onEvent = () => events++;
    const v0 = s.version;
    c.send(text('x'));
    net.run(Duration.fromSecs(1));
    expect(events).toBeGreaterThan(0);
    expect(s.version).toBeGreaterThan(v0);
    expect(s.readable).toBe(true);
    const before = events;
    c.shutdownWrite();
    net.run(Duration.fromSecs(1));
    expect(events).toBeGreaterThan(before);
    expect(s.state).toBe(TcpState.CLOSE_WAIT);
  });

  it('a segment that ACKs sent data and brings data signals once; a pure ACK that frees send space signals too', () => {
    const { net, b, c, s } = connected({ noDelay: true });
    const free = c.sendFree;
    // s's pure ACK of the request is lost: its response carries the ACK.
    net.dropIf = (seg, from) => from === b.addr && seg.payload.length === 0;
    c.send(text('ping'));
    net.run(Duration.fromMillis(50));
    expect(s.recvAvailable).toBe(4);
    expect(c.sendFree).toBeLessThan(free);
    net.dropIf = undefined;
    let events = 0;
    c.onEvent = () => events++;
    const v0 = c.version;
    s.send(text('pong'));
    net.run(Duration.fromMillis(50));
    // One notify for the freed send space and the queued data (Linux: tcp_check_space after tcp_ack).
    expect(c.recvAvailable).toBe(4);
    expect(c.sendFree).toBe(free);
    expect(events).toBe(1);
    expect(c.version).toBe(v0 + 1);
    // A pure ACK freeing send space still signals (a writer may be waiting for it).
    const before = events;
    c.send(text('x'));
    expect(c.sendFree).toBeLessThan(free);
    net.run(Duration.fromSecs(2));
    expect(c.sendFree).toBe(free);
    expect(c.recvAvailable).toBe(4);
    expect(events).toBe(before + 1);
  });

  it('sendFree is 0 once the sending direction is shut down, and send() accepts nothing', () => {
    const { c } = connected();
    expect(c.sendFree).toBeGreaterThan(0);
    c.shutdownWrite();
    expect(c.sendFree).toBe(0);
    expect(c.send(text('late'))).toBe(0);
  });

  it('pollAt is undefined for an idle established connection and set while data is unacknowledged', () => {
    const { net, a, c } = connected();
    expect(c.pollAt()).toBeUndefined();
    net.dropIf = (_seg, from) => from === a.addr;
    c.send(text('data'));
    net.run(Duration.fromMillis(1));
    const at = c.pollAt();
    expect(at).toBeDefined();
    expect(Instant.toMicros(at!)).toBeGreaterThan(Instant.toMicros(net.now));
  });
});
