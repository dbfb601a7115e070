import { describe, expect, it } from 'vitest';
import type { IpRoute } from '../stack/transport.js';
import { ipv4 } from '../wire/address.js';
import { toHex } from '../wire/bytes.js';
import { TcpFlag, emitTcp, tcpHeaderLen } from '../wire/tcp.js';
import type { TcpHeaderRepr } from '../wire/tcp.js';
import { dataOptions } from '../wire/tcp-options.js';
import { SeededRng } from '../random/rng.js';
import { TcpTransmitter } from './tcp-transmit.js';
import type { TcpHost } from './tcp-host.js';

const SRC = ipv4('10.0.0.1');
const DST = ipv4('10.0.0.2');

/** A transmitter whose packets are only filled (prepareFill), never sent. */
function transmitter(): TcpTransmitter {
  return new TcpTransmitter({} as TcpHost, { n: 0 }, { n: 0 });
}

function route(checksum: boolean): IpRoute {
  return { src: SRC, dst: DST, checksum } as IpRoute;
}

describe('TcpTransmitter fill: a segment from a range of the send store', () => {
  const header: TcpHeaderRepr = {
    srcPort: 5001,
    dstPort: 40000,
    seq: 0xfffffff0,
    ack: 12345,
    flags: TcpFlag.ACK | TcpFlag.PSH,
    window: 501,
    urgentPointer: 0,
    options: dataOptions({ timestamps: { tsVal: 7, tsEcr: 9 } }),
  };
  const hlen = tcpHeaderLen(header);

  it('matches emitTcp for short and long payloads, contiguous and wrapping, with and without the checksum', () => {
    const rng = new SeededRng(3);
    const store = new Uint8Array(4096);
    for (let i = 0; i < store.length; i++) store[i] = rng.nextInt(256);
    const tx = transmitter();
    const cases: [start: number, len: number][] = [
      [0, 0],
      [100, 1], // one byte: the byte loop
      [4090, 20], // short, wrapping
      [10, 600], // long (the sum taken from the store's view)
      [1000, 1448],
      [3000, 1448], // long, wrapping: two views
      [4095, 1449], // one byte before the wrap, odd length
      [4096 - 512, 512], // exactly to the end
    ];
    for (let k = 0; k < 40; k++) cases.push([rng.nextInt(store.length), rng.nextInt(1449)]);
    for (const [start, len] of cases) {
      const payload = new Uint8Array(len);
      for (let i = 0; i < len; i++) payload[i] = store[(start + i) % store.length]!;
      for (const checksum of [true, false]) {
        const expected = new Uint8Array(hlen + len);
        emitTcp({ ...header, payload }, expected, checksum ? { src: SRC, dst: DST } : undefined);
        const frame = new Uint8Array(hlen + len + 8).fill(0xee);
        tx.prepareFill(header, hlen, store, start, len)(frame.subarray(0, hlen + len), route(checksum));
        expect(toHex(frame.subarray(0, hlen + len)), `start ${start} len ${len} checksum ${checksum}`).toBe(toHex(expected));
        expect(frame.subarray(hlen + len).every((b) => b === 0xee)).toBe(true);
      }
    }
  });
});
