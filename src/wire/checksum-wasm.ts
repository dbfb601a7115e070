/**
 * The word sum of the Internet checksum (RFC 1071) in WebAssembly SIMD, for
 * long ranges: a TCP segment's payload, summed once by the sender and once
 * by the receiver. The JavaScript loop in checksum.ts reads one 32-bit word
 * per step; a 128-bit SIMD step adds eight 16-bit words, so a full-size
 * segment costs about half as much even with the copy into the module's
 * memory (issue 9: the sender's checksum was about 7% of a bulk transfer).
 *
 * WebAssembly is a standard global in every runtime sockstack supports, but
 * a host may lack it or its SIMD proposal (an old engine, a locked-down
 * page): then wasmWordSum answers -1 and checksum.ts sums in JavaScript.
 * Nothing here throws.
 *
 * The module, in WebAssembly text format (the bytes below are it, encoded
 * by hand):
 *
 *   (module
 *     (memory (export "mem") 1)
 *     (func (export "sum") (param $len i32) (result f64)
 *       (local $i i32) (local $end i32) (local $acc v128) (local $s i64)
 *       ;; 16 bytes a step: eight little-endian u16 lanes, added pairwise
 *       ;; into four u32 lanes (at most 4096 steps of 2 * 0xffff: no overflow)
 *       (local.set $end (i32.and (local.get $len) (i32.const -16)))
 *       (block (loop
 *         (br_if 1 (i32.ge_u (local.get $i) (local.get $end)))
 *         (local.set $acc (i32x4.add (local.get $acc)
 *           (i32x4.extadd_pairwise_i16x8_u (v128.load (local.get $i)))))
 *         (local.set $i (i32.add (local.get $i) (i32.const 16)))
 *         (br 0)))
 *       (local.set $s (i64.add (i64.add (i64.add
 *         (i64.extend_i32_u (i32x4.extract_lane 0 (local.get $acc)))
 *         (i64.extend_i32_u (i32x4.extract_lane 1 (local.get $acc))))
 *         (i64.extend_i32_u (i32x4.extract_lane 2 (local.get $acc))))
 *         (i64.extend_i32_u (i32x4.extract_lane 3 (local.get $acc)))))
 *       ;; the tail, a word at a time, then an odd last byte (the low half
 *       ;; of a little-endian word: RFC 1071 4.1's zero padding)
 *       (block (loop
 *         (br_if 1 (i32.ge_u (i32.add (local.get $i) (i32.const 1)) (local.get $len)))
 *         (local.set $s (i64.add (local.get $s) (i64.load16_u (local.get $i))))
 *         (local.set $i (i32.add (local.get $i) (i32.const 2)))
 *         (br 0)))
 *       (if (i32.lt_u (local.get $i) (local.get $len))
 *         (then (local.set $s (i64.add (local.get $s) (i64.load8_u (local.get $i))))))
 *       ;; below 2^33 for 64 KiB: exact as a float64
 *       (f64.convert_i64_u (local.get $s))))
 */

/** The module's memory, one 64 KiB page: longer ranges are summed in JavaScript. */
export const WASM_SUM_MAX_BYTES = 65536;

const BODY = [
  // locals: 2 x i32, 1 x v128, 1 x i64
  0x03, 0x02, 0x7f, 0x01, 0x7b, 0x01, 0x7e,
  // $end = $len & -16
  0x20, 0x00, 0x41, 0x70, 0x71, 0x21, 0x02,
  // block, loop: exit when $i >= $end
  0x02, 0x40, 0x03, 0x40, 0x20, 0x01, 0x20, 0x02, 0x4f, 0x0d, 0x01,
  // $acc = i32x4.add($acc, i32x4.extadd_pairwise_i16x8_u(v128.load($i)))
  0x20, 0x03, 0x20, 0x01, 0xfd, 0x00, 0x00, 0x00, 0xfd, 0x7f, 0xfd, 0xae, 0x01, 0x21, 0x03,
  // $i += 16; br 0; end; end
  0x20, 0x01, 0x41, 0x10, 0x6a, 0x21, 0x01, 0x0c, 0x00, 0x0b, 0x0b,
  // $s = the four lanes, widened to i64 and added
  0x20, 0x03, 0xfd, 0x1b, 0x00, 0xad,
  0x20, 0x03, 0xfd, 0x1b, 0x01, 0xad, 0x7c,
  0x20, 0x03, 0xfd, 0x1b, 0x02, 0xad, 0x7c,
  0x20, 0x03, 0xfd, 0x1b, 0x03, 0xad, 0x7c,
  0x21, 0x04,
  // block, loop: exit when $i + 1 >= $len
  0x02, 0x40, 0x03, 0x40, 0x20, 0x01, 0x41, 0x01, 0x6a, 0x20, 0x00, 0x4f, 0x0d, 0x01,
  // $s += i64.load16_u($i); $i += 2; br 0; end; end
  0x20, 0x04, 0x20, 0x01, 0x33, 0x00, 0x00, 0x7c, 0x21, 0x04,
  0x20, 0x01, 0x41, 0x02, 0x6a, 0x21, 0x01, 0x0c, 0x00, 0x0b, 0x0b,
  // if $i < $len: $s += i64.load8_u($i)
  0x20, 0x01, 0x20, 0x00, 0x49, 0x04, 0x40, 0x20, 0x04, 0x20, 0x01, 0x31, 0x00, 0x00, 0x7c, 0x21, 0x04, 0x0b,
  // f64.convert_i64_u($s); end
  0x20, 0x04, 0xba, 0x0b,
];

function leb128(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function moduleBytes(): Uint8Array {
  const code = [0x01, ...leb128(BODY.length), ...BODY];
  return new Uint8Array([
    // "\0asm", version 1
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    // types: (func (param i32) (result f64))
    0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7c,
    // functions: one, of type 0
    0x03, 0x02, 0x01, 0x00,
    // memory: one, at least 1 page
    0x05, 0x03, 0x01, 0x00, 0x01,
    // exports: "mem" (memory 0), "sum" (function 0)
    0x07, 0x0d, 0x02, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00, 0x03, 0x73, 0x75, 0x6d, 0x00, 0x00,
    // code
    0x0a, ...leb128(code.length), ...code,
  ]);
}

/** The little of the WebAssembly JS API used here (typed locally: not every runtime's typings declare it). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
}

interface Summer {
  readonly mem: Uint8Array;
  readonly sum: (len: number) => number;
}

/** undefined: not tried yet; null: unavailable here. */
let summer: Summer | null | undefined;

function load(): Summer | null {
  try {
    const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
    if (api === undefined) return null;
    const bytes = moduleBytes();
    if (!api.validate(bytes)) return null; // no SIMD here
    const { exports } = new api.Instance(new api.Module(bytes), {});
    const memory = exports['mem'] as { buffer?: unknown } | undefined;
    const sum = exports['sum'];
    if (typeof sum !== 'function' || !(memory?.buffer instanceof ArrayBuffer)) return null;
    return { mem: new Uint8Array(memory.buffer, 0, WASM_SUM_MAX_BYTES), sum: sum as (len: number) => number };
  } catch {
    return null;
  }
}

/**
 * The one's complement sum of data[from..to) as big-endian 16-bit words
 * (`from` even: the words are data's), folded to 16 bits; -1 when
 * WebAssembly SIMD is unavailable or the range is longer than
 * WASM_SUM_MAX_BYTES (the caller then sums in JavaScript).
 */
export function wasmWordSum(data: Uint8Array, from: number, to: number): number {
  let s = summer;
  if (s === undefined) s = summer = load();
  const n = to - from;
  if (s === null || n > WASM_SUM_MAX_BYTES) return -1;
  s.mem.set(from === 0 && to === data.length ? data : data.subarray(from, to), 0);
  let v = s.sum(n);
  // Fold the carries (v < 2^33): the division by 2^16 is exact, as in checksumFold.
  while (v > 0xffff) {
    const high = Math.floor(v / 0x10000);
    v = v - high * 0x10000 + high;
  }
  // The module read little-endian words: their folded sum is the big-endian
  // one byte-swapped (RFC 1071 2(B)). WebAssembly memory is little-endian on
  // every host.
  return ((v & 0xff) << 8) | (v >>> 8);
}
