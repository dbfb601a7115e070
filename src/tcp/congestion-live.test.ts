/**
 * TCP_CONGESTION on an established connection switches its controller at
 * once, as Linux's tcp_set_congestion_control does
 * (tcp_reinit_congestion_control): cwnd and ssthresh carry over, only the
 * controller's own state starts afresh, and the transfer goes on.
 */
import { describe, expect, it } from 'vitest';
import { constants as C } from '../syscall/constants.js';
import type { TcpInfoValue } from './tcp-info.js';
import { connected, pair } from './socket-pair.fixtures.js';

async function transfer(sys: { write(fd: number, b: Uint8Array): Promise<number>; read(fd: number, b: Uint8Array): Promise<number> }, from: number, to: number, bytes: number, rsys = sys): Promise<void> {
  const reading = (async () => {
    const buf = new Uint8Array(65536);
    let got = 0;
    while (got < bytes) got += await rsys.read(to, buf);
  })();
  const chunk = new Uint8Array(65536);
  for (let sent = 0; sent < bytes; ) sent += await sys.write(from, chunk.subarray(0, Math.min(chunk.length, bytes - sent)));
  await reading;
}

describe('TCP_CONGESTION on a live connection', () => {
  it('switches the controller and keeps the window', async () => {
    const { a, b } = pair();
    const { srv, cli } = await connected(a, b);
    await transfer(b.sys, cli, srv, 1 << 20, a.sys);
    expect(b.sys.getsockopt(cli, C.IPPROTO_TCP, C.TCP_CONGESTION)).toBe('cubic');
    const before = b.sys.getsockopt(cli, C.IPPROTO_TCP, C.TCP_INFO) as unknown as TcpInfoValue;
    expect(before.snd_cwnd).toBeGreaterThan(10);

    b.sys.setsockopt(cli, C.IPPROTO_TCP, C.TCP_CONGESTION, 'reno');
    expect(b.sys.getsockopt(cli, C.IPPROTO_TCP, C.TCP_CONGESTION)).toBe('reno');
    const after = b.sys.getsockopt(cli, C.IPPROTO_TCP, C.TCP_INFO) as unknown as TcpInfoValue;
    expect(after.snd_cwnd).toBe(before.snd_cwnd);
    expect(after.snd_ssthresh).toBe(before.snd_ssthresh);

    await transfer(b.sys, cli, srv, 1 << 20, a.sys);
    expect(b.sys.getsockopt(cli, C.IPPROTO_TCP, C.TCP_CONGESTION)).toBe('reno');
    // The accepted end was not touched.
    expect(a.sys.getsockopt(srv, C.IPPROTO_TCP, C.TCP_CONGESTION)).toBe('cubic');
  });
});
