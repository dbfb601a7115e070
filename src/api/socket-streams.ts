/**
 * Pieces both sockets of connect() build their WHATWG streams and promises
 * from (stream-socket.ts, secure-socket.ts).
 */

/** Marks a promise as handled (so nobody awaiting it is fine) and returns it unchanged. */
export function handled<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/** Errors both of a socket's streams with `e`; a stream already closed is left as it is. */
export function errorStreams(
  read: ReadableByteStreamController | undefined,
  write: WritableStreamDefaultController | undefined,
  e: unknown,
): void {
  try {
    read?.error(e);
  } catch {
    // Already closed.
  }
  try {
    write?.error(e);
  } catch {
    // Already closed.
  }
}

/** A socket's `closed` promise (marked handled) with its resolve and reject. */
export function closedSignal(): { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = handled(
    new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    }),
  );
  return { promise, resolve, reject };
}

/** A socket's writable: one chunk at a time (highWaterMark 1); close and abort both end the sending half. */
export function socketWritable(
  start: (controller: WritableStreamDefaultController) => void,
  write: (chunk: Uint8Array) => Promise<void>,
  closeWrite: () => Promise<void>,
): WritableStream<Uint8Array> {
  return new WritableStream<Uint8Array>(
    {
      start,
      write,
      close: closeWrite,
      abort: () => closeWrite(),
    },
    { highWaterMark: 1 },
  );
}
