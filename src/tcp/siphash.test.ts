import { describe, expect, it } from 'vitest';
import { sipHash24, sipHashKey, sipHashKeyFromWords } from './siphash.js';

// The reference test vectors of SipHash-2-4 (the paper's reference code,
// vectors.h): key 00 01 .. 0f, message i bytes 00 01 .. (i-1), as uint64.
const VECTORS = [
  '726fdb47dd0e0e31', '74f839c593dc67fd', '0d6c8009d9a94f5a', '85676696d7fb7e2d',
  'cf2794e0277187b7', '18765564cd99a68d', 'cbc9466e58fee3ce', 'ab0200f58b01d137',
  '93f5f5799a932462', '9e0082df0ba9e4b0', '7a5dbbc594ddb9f3', 'f4b32f46226bada7',
  '751e8fbc860ee5fb', '14ea5627c0843d90', 'f723ca908e7af2ee', 'a129ca6149be45e5',
  '3f2acc7f57c29bdb', '699ae9f52cbe4794', '4bc1b3f0968dd39c', 'bb6dc91da77961bd',
  'bed65cf21aa2ee98', 'd0f2cbb02e3b67c7', '93536795e3a33e88', 'a80c038ccd5ccec8',
  'b8ad50c6f649af94', 'bce192de8a85b8ea', '17d835b85bbb15f3', '2f2e6163076bcfad',
  'de4daaaca71dc9a5', 'a6a2506687956571', 'ad87a3535c49ef28', '32d892fad841c342',
  '7127512f72f27cce', 'a7f32346f95978e3', '12e0b01abb051238', '15e034d40fa197ae',
  '314dffbe0815a3b4', '027990f029623981', 'cadcd4e59ef40c4d', '9abfd8766a33735c',
  '0e3ea96b5304a7d0', 'ad0c42d6fc585992', '187306c89bc215a9', 'd4a60abcf3792b95',
  'f935451de4f21df2', 'a9538f0419755787', 'db9acddff56ca510', 'd06c98cd5c0975eb',
  'e612a3cb9ecba951', 'c766e62cfcadaf96', 'ee64435a9752fe72', 'a192d576b245165a',
  '0a8787bf8ecb74b2', '81b3e73d20b49b6f', '7fa8220ba3b2ecea', '245731c13ca42499',
  'b78dbfaf3a8d83bd', 'ea1ad565322a1a0b', '60e61c23a3795013', '6606d7e446282b93',
  '6ca4ecb15c5f91e1', '9f626da15c9625f3', 'e51b38608ef25f57', '958a324ceb064572',
];

function hex64(h: { hi: number; lo: number }): string {
  return h.hi.toString(16).padStart(8, '0') + h.lo.toString(16).padStart(8, '0');
}

const keyBytes = Uint8Array.from({ length: 16 }, (_, i) => i);
const message = Uint8Array.from({ length: 64 }, (_, i) => i);

describe('sipHash24', () => {
  it('matches all 64 reference vectors (every tail length, multi-block inputs)', () => {
    const key = sipHashKey(keyBytes);
    for (let len = 0; len < 64; len++) {
      expect(hex64(sipHash24(key, message.subarray(0, len))), `length ${len}`).toBe(VECTORS[len]);
    }
  });

  it('matches the paper\'s worked example (15-byte message)', () => {
    expect(hex64(sipHash24(sipHashKey(keyBytes), message.subarray(0, 15)))).toBe('a129ca6149be45e5');
  });

  it('reads key words little-endian: words and bytes give the same key', () => {
    const fromWords = sipHashKeyFromWords(0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c);
    expect(fromWords).toEqual(sipHashKey(keyBytes));
  });

  it('honours subarray offsets and does not depend on earlier calls', () => {
    const key = sipHashKey(keyBytes);
    const big = new Uint8Array(80);
    big.set(message.subarray(0, 20), 7);
    sipHash24(sipHashKeyFromWords(1, 2, 3, 4), message);
    expect(hex64(sipHash24(key, big.subarray(7, 27)))).toBe(VECTORS[20]);
  });

  it('changes with the key', () => {
    const a = sipHash24(sipHashKeyFromWords(0, 0, 0, 0), message.subarray(0, 12));
    const b = sipHash24(sipHashKeyFromWords(1, 0, 0, 0), message.subarray(0, 12));
    expect(hex64(a)).not.toBe(hex64(b));
  });

  it('rejects a key that is not 16 bytes', () => {
    expect(() => sipHashKey(new Uint8Array(15))).toThrow(RangeError);
  });
});
