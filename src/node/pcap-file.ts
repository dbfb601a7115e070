/**
 * Node-only: a PcapWriter that writes to a file. Synchronous writes keep the
 * capture in step with the stack (no promise per packet, nothing lost if the
 * program exits right after close()); buffering into ~64 KiB writes keeps the
 * system-call count low when every frame of a busy link is recorded.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { PcapWriterOptions } from '../link/pcap.js';
import { PcapWriter } from '../link/pcap.js';

export interface PcapFileOptions extends PcapWriterOptions {
  /** Bytes gathered before a write to the file. Default 65536. */
  readonly bufferSize?: number;
}

export interface PcapFileHandle {
  readonly writer: PcapWriter;
  /** The file path, as given. */
  readonly path: string;
  /** Writes out what is buffered, e.g. before another process reads the file. */
  flush(): void;
  /**
   * Flushes and closes the file. Idempotent. Packets written afterwards are
   * dropped: a sniffing PcapLink may still see a last frame or two from a
   * stack that is shutting down, and that must not crash it.
   */
  close(): void;
}

/** Creates (or truncates) `path` and writes the pcap file header to it at once. */
export function createPcapFile(path: string, options: PcapFileOptions): PcapFileHandle {
  const size = options.bufferSize ?? 65_536;
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`createPcapFile: bad bufferSize ${size}`);
  let fd: number | undefined = openSync(path, 'w');
  const buffer = new Uint8Array(size);
  let used = 0;

  const writeAll = (bytes: Uint8Array): void => {
    let off = 0;
    // writeSync may write less than asked (e.g. to a pipe); loop until done.
    while (off < bytes.length) off += writeSync(fd!, bytes, off, bytes.length - off);
  };

  const flush = (): void => {
    if (fd === undefined || used === 0) return;
    writeAll(buffer.subarray(0, used));
    used = 0;
  };

  const sink = (chunk: Uint8Array): void => {
    if (fd === undefined) return;
    if (used + chunk.length > size) flush();
    if (chunk.length >= size) {
      writeAll(chunk); // too big to buffer: skip the copy
      return;
    }
    buffer.set(chunk, used);
    used += chunk.length;
  };

  let writer: PcapWriter;
  try {
    writer = new PcapWriter(sink, options);
    flush(); // the header: an empty capture is a valid file from the start
  } catch (e) {
    closeSync(fd);
    fd = undefined;
    throw e;
  }

  return {
    writer,
    path,
    flush,
    close(): void {
      if (fd === undefined) return;
      try {
        flush();
      } finally {
        closeSync(fd);
        fd = undefined;
      }
    },
  };
}
