import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LinkType } from '../link/link.js';
import { PcapWriter, readPcap } from '../link/pcap.js';
import { Instant } from '../time/instant.js';
import { createPcapFile } from './pcap-file.js';

const dir = mkdtempSync(join(tmpdir(), 'sockstack-pcap-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function frame(i: number, len: number): Uint8Array {
  return new Uint8Array(len).map((_, j) => (i * 31 + j) & 0xff);
}

describe('createPcapFile', () => {
  it('writes the same bytes as an in-memory writer, buffered, and flushes on close', () => {
    const path = join(dir, 'a.pcap');
    const file = createPcapFile(path, { linkType: LinkType.Ethernet, resolution: 'ns', bufferSize: 100 });
    expect(file.path).toBe(path);
    expect(statSync(path).size).toBe(24); // the header is on disk at once

    const chunks: Uint8Array[] = [];
    const mem = new PcapWriter((c) => chunks.push(c), { linkType: LinkType.Ethernet, resolution: 'ns' });
    // Sizes around the buffer size: fits, fills exactly, larger than the buffer.
    const sizes = [10, 60, 84, 100, 250, 1, 0, 3000, 5];
    sizes.forEach((len, i) => {
      const t = Instant.fromMicros(1_700_000_000_000_000 + i * 1234);
      file.writer.writePacket(t, frame(i, len));
      mem.writePacket(t, frame(i, len));
    });
    expect(statSync(path).size).toBeLessThan(mem.bytesWritten); // something is still buffered
    file.close();
    file.close(); // idempotent

    const onDisk = new Uint8Array(readFileSync(path));
    const expected = new Uint8Array(mem.bytesWritten);
    let at = 0;
    for (const c of chunks) {
      expected.set(c, at);
      at += c.length;
    }
    expect(onDisk).toEqual(expected);
    const r = readPcap(onDisk);
    if (!r.ok) throw new Error(r.reason);
    expect(r.value.records.map((x) => x.data.length)).toEqual(sizes);
    expect(r.value.header.resolution).toBe('ns');
  });

  it('flush() makes everything written so far readable', () => {
    const path = join(dir, 'b.pcap');
    const file = createPcapFile(path, { linkType: LinkType.RawIp });
    file.writer.writePacket(Instant.fromSecs(1), frame(1, 40));
    expect(statSync(path).size).toBe(24);
    file.flush();
    expect(statSync(path).size).toBe(24 + 16 + 40);
    file.close();
  });

  it('drops packets written after close instead of throwing', () => {
    const path = join(dir, 'c.pcap');
    const file = createPcapFile(path, { linkType: LinkType.RawIp });
    file.writer.writePacket(Instant.fromSecs(1), frame(1, 20));
    file.close();
    expect(() => file.writer.writePacket(Instant.fromSecs(2), frame(2, 20))).not.toThrow();
    file.flush();
    const r = readPcap(new Uint8Array(readFileSync(path)));
    expect(r.ok && r.value.records.length).toBe(1);
  });

  it('rejects bad options and unopenable paths', () => {
    expect(() => createPcapFile(join(dir, 'd.pcap'), { linkType: LinkType.RawIp, snaplen: 0 })).toThrow(RangeError);
    expect(() => createPcapFile(join(dir, 'e.pcap'), { linkType: LinkType.RawIp, bufferSize: 0 })).toThrow(RangeError);
    expect(() => createPcapFile(join(dir, 'no-such-dir', 'f.pcap'), { linkType: LinkType.RawIp })).toThrow(/ENOENT/);
  });
});
