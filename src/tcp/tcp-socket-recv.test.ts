/**
 * TcpSocket.recvCount (issue 9): read() and recv() take only the byte count
 * from the handle, so TCP answers them without a result record. It must
 * answer exactly what recv() does.
 */
import { describe, expect, it } from 'vitest';
import { constants as C } from '../syscall/constants.js';
import { WOULD_BLOCK } from '../syscall/socket-handle.js';
import { connected, pair, sleep } from './socket-pair.fixtures.js';
import type { TcpSocket } from './tcp-socket.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

describe('TcpSocket.recvCount', () => {
  it('answers what recv answers, without the record: data across buffers, peek, the urgent mark, the out-of-band byte, blocking, end of stream, errors', async () => {
    const { net, a, b } = pair();
    const { lfd, srv, cli } = await connected(a, b);
    const h = a.sys.handleOf(srv) as TcpSocket;
    await b.sys.send(cli, enc.encode('abc'), 0);
    await b.sys.send(cli, enc.encode('X'), C.MSG_OOB);
    await b.sys.send(cli, enc.encode('de'), 0);
    await sleep(net, 10);
    const buf = new Uint8Array(8);
    // A read stops at the urgent mark, both ways.
    expect(h.recv([buf], C.MSG_PEEK)).toEqual({ bytesRead: 3, from: undefined, flags: 0 });
    expect(h.recvCount([buf], C.MSG_PEEK)).toBe(3);
    expect(h.recvCount([buf.subarray(0, 2), buf.subarray(5)], 0)).toBe(3);
    expect(dec.decode(buf.subarray(0, 2)) + dec.decode(buf.subarray(5, 6))).toBe('abc');
    // The out-of-band byte: recv reports MSG_OOB in its flags, recvCount the byte count.
    expect(h.recv([buf], C.MSG_OOB | C.MSG_PEEK)).toEqual({ bytesRead: 1, from: undefined, flags: C.MSG_OOB });
    buf.fill(0);
    expect(h.recvCount([buf], C.MSG_OOB)).toBe(1);
    expect(dec.decode(buf.subarray(0, 1))).toBe('X');
    expect(h.recvCount([buf], 0)).toBe(2);
    expect(dec.decode(buf.subarray(0, 2))).toBe('de');
    expect(h.recvCount([buf], 0)).toBe(WOULD_BLOCK);
    expect(h.recv([buf], 0)).toBe(WOULD_BLOCK);
    expect(() => h.recvCount([buf], C.MSG_ERRQUEUE)).toThrow('EAGAIN');
    b.sys.shutdown(cli, C.SHUT_WR);
    await sleep(net, 10);
    expect(h.recvCount([buf], 0)).toBe(0);
    expect(h.recv([buf], 0)).toEqual({ bytesRead: 0, from: undefined, flags: 0 });
    expect(await a.sys.read(srv, buf)).toBe(0);
    expect(() => (a.sys.handleOf(lfd) as TcpSocket).recvCount([buf], 0)).toThrow('ENOTCONN');
    net.close();
  });

  it('a read never makes a socket more ready, so it wakes nobody (no notify from TcpConnection.recv): urgent data, SO_RCVLOWAT, SO_OOBINLINE, end of stream', async () => {
    for (const oobInline of [false, true]) {
      for (const lowat of [1, 4, 64]) {
        const { net, a, b } = pair();
        const { srv, cli } = await connected(a, b);
        const h = a.sys.handleOf(srv) as TcpSocket;
        a.sys.setsockopt(srv, C.SOL_SOCKET, C.SO_OOBINLINE, oobInline ? 1 : 0);
        a.sys.setsockopt(srv, C.SOL_SOCKET, C.SO_RCVLOWAT, lowat);
        let wakes = 0;
        h.setWaker(() => wakes++);
        await b.sys.send(cli, enc.encode('abcdef'), 0);
        await b.sys.send(cli, enc.encode('X'), C.MSG_OOB);
        await b.sys.send(cli, enc.encode('ghi'), 0);
        b.sys.shutdown(cli, C.SHUT_WR);
        await sleep(net, 10);
        const buf = new Uint8Array(3);
        for (let i = 0; i < 8; i++) {
          const before = h.readiness();
          const w = wakes;
          const r = h.recvCount([buf.subarray(0, 1 + (i % 3))], C.MSG_DONTWAIT);
          // What a read leaves ready was ready before it (no bit gained), and it woke no one.
          expect(h.readiness() & ~before, `oobInline ${oobInline}, lowat ${lowat}, read ${i} (${String(r)})`).toBe(0);
          expect(wakes).toBe(w);
          if (!oobInline && (before & C.POLLPRI) !== 0) {
            expect(h.recvCount([buf], C.MSG_OOB)).toBe(1);
          }
        }
        net.close();
      }
    }
  });
});
