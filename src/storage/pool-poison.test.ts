// Review of the pooled ring stores (issue 9: speed must never cost
// correctness). A store a RingBuffer gives back to the shared pool may be
// handed to another ring at once; if the first ring kept reading or writing
// it, the two connections would corrupt each other's bytes. A poisoning pool
// fills every array it is given with 0xA5, so any use after release shows as
// wrong bytes: two rings sharing it are checked against a plain model under
// seeded random operations (write, read, peek, consume, out-of-order parking
// and commit, resize, release, slices).
import { describe, expect, it } from 'vitest';
import { BufferPool } from './buffer-pool.js';
import { RingBuffer } from './ring-buffer.js';
import { SeededRng } from '../random/rng.js';

const POISON = 0xa5;

/** A BufferPool that poisons what it is given: the giver promised never to touch it again. */
class PoisonPool extends BufferPool {
  given = 0;
  override give(buf: Uint8Array): void {
    buf.fill(POISON);
    this.given++;
    super.give(buf);
  }
  // What rings call (the same promise, minus give's whole-array check).
  override giveTaken(buf: Uint8Array): void {
    buf.fill(POISON);
    this.given++;
    super.giveTaken(buf);
  }
}

/** What a ring should hold: contents (undefined: committed but never written) and parked bytes. */
class Model {
  contents: (number | undefined)[] = [];
  /** Parked out-of-order bytes by offset past the end of the contents. */
  parked = new Map<number, number>();
  extent = 0;
  capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get free(): number {
    return this.capacity - this.contents.length;
  }

  write(src: Uint8Array): number {
    const n = Math.min(src.length, this.free);
    // Writing the contents overwrites parked bytes at the same place (the ring shares one store).
    const shifted = new Map<number, number>();
    for (const [off, v] of this.parked) if (off >= n) shifted.set(off - n, v);
    this.parked = shifted;
    for (let i = 0; i < n; i++) this.contents.push(src[i]);
    this.extent = Math.max(this.extent, this.contents.length);
    return n;
  }

  drop(n: number): void {
    this.contents.splice(0, n);
    this.extent -= n;
  }

  writeAt(offset: number, src: Uint8Array): number {
    const n = Math.min(src.length, this.free - offset);
    if (n <= 0) return 0;
    for (let i = 0; i < n; i++) this.parked.set(offset + i, src[i]!);
    this.extent = Math.max(this.extent, this.contents.length + offset + n);
    return n;
  }

  commit(n: number): void {
    const shifted = new Map<number, number>();
    for (let i = 0; i < n; i++) this.contents.push(this.parked.get(i));
    for (const [off, v] of this.parked) if (off >= n) shifted.set(off - n, v);
    this.parked = shifted;
    this.extent = Math.max(this.extent, this.contents.length);
  }

  dropUncommitted(): void {
    this.parked.clear();
    this.extent = this.contents.length;
  }
}

function expectSame(ring: RingBuffer, model: Model, label: string): void {
  if (ring.length !== model.contents.length || ring.extent !== model.extent) {
    expect.fail(`${label}: length/extent ${ring.length}/${ring.extent}, expected ${model.contents.length}/${model.extent}`);
  }
  const got = new Uint8Array(ring.length);
  ring.peek(got);
  for (let i = 0; i < got.length; i++) {
    const want = model.contents[i];
    if (want !== undefined && got[i] !== want) {
      expect.fail(`${label}: byte ${i} of ${got.length} is ${got[i]}, expected ${want}`);
    }
  }
}

function randomBytes(rng: SeededRng, n: number): Uint8Array {
  const b = new Uint8Array(n);
  // Never the poison value, so a poisoned byte cannot pass for data.
  for (let i = 0; i < n; i++) b[i] = rng.nextInt(255);
  return b;
}

/** One random operation on `ring`, mirrored on `model`. */
function step(rng: SeededRng, ring: RingBuffer, model: Model, label: string): void {
  const op = rng.nextInt(10);
  const big = (): number => (rng.nextInt(4) === 0 ? 1 + rng.nextInt(ring.capacity) : 1 + rng.nextInt(600));
  switch (op) {
    case 0:
    case 1: {
      const src = randomBytes(rng, big());
      expect(ring.write(src), label).toBe(model.write(src));
      break;
    }
    case 2: {
      const dst = new Uint8Array(big());
      const n = ring.read(dst);
      const want = model.contents.slice(0, n);
      expect(n, label).toBe(want.length);
      for (let i = 0; i < n; i++) if (want[i] !== undefined && dst[i] !== want[i]) expect.fail(`${label}: read byte ${i} is ${dst[i]}, expected ${want[i]}`);
      model.drop(n);
      break;
    }
    case 3: {
      const n = rng.nextInt(model.contents.length + 1);
      ring.consume(n);
      model.drop(n);
      break;
    }
    case 4: {
      const off = rng.nextInt(Math.max(1, model.free));
      const src = randomBytes(rng, 1 + rng.nextInt(300));
      expect(ring.writeAt(off, src), label).toBe(model.writeAt(off, src));
      break;
    }
    case 5: {
      // Commit only what the parked bytes make contiguous, as the Assembler would.
      let n = 0;
      while (model.parked.has(n)) n++;
      ring.commit(n);
      model.commit(n);
      break;
    }
    case 6: {
      // SO_RCVBUF / auto-tuning: never below what is stored.
      const cap = Math.max(model.extent, 1024 + rng.nextInt(16_384));
      ring.resize(cap);
      model.capacity = cap;
      break;
    }
    case 7: {
      if (rng.nextInt(3) === 0) {
        ring.dropUncommitted();
        model.dropUncommitted();
      }
      ring.release();
      break;
    }
    case 8: {
      // The sender's zero-copy views: used at once, as TcpProtocol#fill does.
      const off = rng.nextInt(model.contents.length + 1);
      const len = rng.nextInt(2000);
      const views = ring.slices(off, len);
      const flat = views.flatMap((v) => [...v]);
      const want = model.contents.slice(off, off + len);
      expect(flat.length, label).toBe(want.length);
      for (let i = 0; i < flat.length; i++) if (want[i] !== undefined && flat[i] !== want[i]) expect.fail(`${label}: view byte ${i} is ${flat[i]}, expected ${want[i]}`);
      break;
    }
    default: {
      // Drain completely, then release: what a bulk transfer does on nearly every read.
      const dst = new Uint8Array(model.contents.length);
      ring.read(dst);
      model.drop(dst.length);
      ring.release();
      break;
    }
  }
  expectSame(ring, model, label);
}

describe('pooled ring stores under a poisoning pool', () => {
  it.each([1, 2, 3, 4, 5, 6])('two rings sharing the pool never see each other or a released store (seed %i)', (seed) => {
    const pool = new PoisonPool({ maxPerSize: 2 });
    const rng = new SeededRng(seed);
    const rings = [0, 1, 2].map((i) => {
      const cap = 2048 + rng.nextInt(16_384);
      return { ring: new RingBuffer(cap, { pool, minStore: 4096 * (i === 2 ? 0 : 1) }), model: new Model(cap) };
    });
    for (let i = 0; i < 2000; i++) {
      const k = rng.nextInt(rings.length);
      const r = rings[k]!;
      step(rng, r.ring, r.model, `seed ${seed} step ${i} ring ${k}`);
    }
    // The test can fail: stores really went round the pool.
    expect(pool.given).toBeGreaterThan(100);
  });

  it('the poisoning pool does catch a ring that kept its store after giving it back', () => {
    // A deliberately wrong user of the pool: gives its array back but keeps reading it.
    const pool = new PoisonPool();
    const store = pool.take(4096);
    store.set(randomBytes(new SeededRng(9), 4096));
    const before = store.slice();
    pool.give(store);
    const other = pool.take(4096);
    expect(other).toBe(store);
    expect(store).not.toEqual(before);
  });
});
