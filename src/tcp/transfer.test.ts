import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../wire/bytes.js';
import { Duration } from '../time/duration.js';
import { Net, prng } from './harness.fixtures.js';
import type { Faults } from './harness.fixtures.js';
import type { TcpConfig } from './config.js';
import type { TcpConnection } from './connection.js';
import { TcpState } from './state.js';

function randomBytes(n: number, seed: number): Uint8Array {
  const r = prng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(r() * 256);
  return out;
}

/** Pumps `data` into `c` as the send buffer allows, reads the peer into `sink`. */
class Pump {
  sent = 0;
  received: Uint8Array;
  got = 0;
  #buf = new Uint8Array(70000);
  constructor(
    readonly from: TcpConnection,
    readonly to: TcpConnection,
    readonly data: Uint8Array,
  ) {
    this.received = new Uint8Array(data.length);
  }
  step(): void {
    if (this.sent < this.data.length) {
      this.sent += this.from.send(this.data.subarray(this.sent));
      if (this.sent === this.data.length) this.from.shutdownWrite();
    }
    for (;;) {
      const n = this.to.recv(this.#buf);
      if (n === 0) break;
      if (this.got + n > this.received.length) throw new Error('received more than was sent');
      this.received.set(this.#buf.subarray(0, n), this.got);
      this.got += n;
    }
  }
  get done(): boolean {
    return this.got === this.data.length && this.to.eof;
  }
}

function transfer(seed: number, size: number, faults: Faults, config: Partial<TcpConfig> = {}) {
  const net = new Net(seed);
  net.faults = faults;
  const a = net.host('10.0.0.1', config);
  const b = net.host('10.0.0.2', config);
  const l = b.listen(80);
  const c = a.connect(b, 80);
  let s: TcpConnection | undefined;
  net.run(Duration.fromSecs(300), () => (s ??= l.accept()) !== undefined);
  if (s === undefined) throw new Error(`seed ${seed}: no connection`);
  const up = new Pump(c, s, randomBytes(size, seed));
  const down = new Pump(s, c, randomBytes(size, seed + 1000));
  const ok = net.run(Duration.fromSecs(3600), () => {
    up.step();
    down.step();
    return up.done && down.done;
  });
  return { net, c, s: s, up, down, ok };
}

describe('reliable transfer', () => {
  it('1 MiB both ways over a clean pipe', () => {
    const { up, down, ok, net, c, s } = transfer(1, 1 << 20, {});
    expect(ok).toBe(true);
    expect(bytesEqual(up.received, up.data)).toBe(true);
    expect(bytesEqual(down.received, down.data)).toBe(true);
    net.run(Duration.fromSecs(200), () => c.isClosed && s.isClosed);
    expect(c.isClosed && s.isClosed).toBe(true);
  });

  for (const seed of [11, 22, 33, 44]) {
    it(`MUST-19: 1 MiB both ways over a lossy, reordering, duplicating pipe (seed ${seed})`, () => {
      const { up, down, ok, c, s } = transfer(seed, 1 << 20, {
        loss: 0.03,
        duplicate: 0.02,
        reorder: 0.05,
        reorderDelay: Duration.fromMillis(7),
      });
      expect(ok, `seed ${seed}: states ${c.state} ${s.state} got ${up.got}/${down.got}`).toBe(true);
      expect(bytesEqual(up.received, up.data)).toBe(true);
      expect(bytesEqual(down.received, down.data)).toBe(true);
    });
  }

  it('RFC 9293 3.4: sequence numbers wrap around 2^32 mid-transfer (both directions, lossy)', () => {
    const net = new Net(77);
    net.faults = { loss: 0.05, reorder: 0.05 };
    const a = net.host('10.0.0.1');
    const b = net.host('10.0.0.2');
    // Simultaneous open lets both ISNs be chosen: just below the wrap.
    const c = a.connect(b, 6000, 5000, 0xfffff000);
    const s = b.connect(a, 5000, 6000, 0xffffff00);
    net.run(Duration.fromSecs(60), () => c.state === TcpState.ESTABLISHED && s.state === TcpState.ESTABLISHED);
    const up = new Pump(c, s, randomBytes(200_000, 1));
    const down = new Pump(s, c, randomBytes(200_000, 2));
    const ok = net.run(Duration.fromSecs(3600), () => {
      up.step();
      down.step();
      return up.done && down.done;
    });
    expect(ok).toBe(true);
    expect(bytesEqual(up.received, up.data)).toBe(true);
    expect(bytesEqual(down.received, down.data)).toBe(true);
    expect(c.info.sndNxt).toBeLessThan(0x10000000);
  });

  it('transfer without timestamps, SACK or window scaling (small buffers)', () => {
    const { up, down, ok } = transfer(5, 200_000, { loss: 0.02 }, {
      timestamps: false,
      sack: false,
      windowScaling: false,
      recvBufferSize: 8192,
      sendBufferSize: 8192,
    });
    expect(ok).toBe(true);
    expect(bytesEqual(up.received, up.data)).toBe(true);
    expect(bytesEqual(down.received, down.data)).toBe(true);
  });

  it('receive buffer auto-tuning grows the window when the reader keeps up', () => {
    const { s, ok } = transfer(6, 4 << 20, {}, { recvBufferSize: 65536, recvBufferMax: 1 << 20 });
    expect(ok).toBe(true);
    expect(s.info.recvBufferSize).toBeGreaterThan(65536);
  });

  // Randomized: every combination of congestion control, SACK and timestamps,
  // heavy faults, both sides closing; bytes checked as they arrive.
  for (const [seed, cc, sack, timestamps] of [
    [101, 'cubic', true, true],
    [102, 'cubic', false, true],
    [103, 'reno', true, false],
    [104, 'reno', false, false],
    [105, 'cubic', true, false],
    [106, 'reno', true, true],
  ] as const) {
    it(`randomized close-to-close transfer, 8% loss (seed ${seed}, ${cc}, sack ${sack}, ts ${timestamps})`, () => {
      const net = new Net(seed);
      net.faults = { loss: 0.08, duplicate: 0.05, reorder: 0.1, reorderDelay: Duration.fromMillis(15) };
      const cfg = { congestionControl: cc, sack, timestamps };
      const a = net.host('10.0.0.1', cfg);
      const b = net.host('10.0.0.2', cfg);
      const l = b.listen(80);
      const c = a.connect(b, 80);
      let s: TcpConnection | undefined;
      net.run(Duration.fromSecs(600), () => (s ??= l.accept()) !== undefined);
      if (s === undefined) throw new Error('no connection');
      const server = s;
      const d = randomBytes(300_000, seed);
      const buf = new Uint8Array(70000);
      let sent = 0;
      let got = 0;
      let bad = false;
      const ok = net.run(Duration.fromSecs(36000), () => {
        if (sent < d.length) {
          sent += c.send(d.subarray(sent));
          if (sent === d.length) c.close();
        }
        for (let n = server.recv(buf); n > 0; n = server.recv(buf)) {
          for (let i = 0; i < n; i++) if (buf[i] !== d[got + i]) bad = true;
          got += n;
        }
        if (server.eof && server.state === 'CLOSE-WAIT') server.close();
        return c.isClosed && server.isClosed;
      });
      expect(bad).toBe(false);
      expect(got).toBe(d.length);
      expect(ok, `${c.state} ${server.state} ${c.error} ${server.error}`).toBe(true);
      expect(c.error).toBeUndefined();
      expect(server.error).toBeUndefined();
    });
  }
});
