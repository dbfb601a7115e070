import { describe, expect, it } from 'vitest';
import { demo } from './tcp-file-transfer.js';

describe('examples/tcp-file-transfer', () => {
  it('sends a file over a lossy network, ends it with shutdown(SHUT_WR), and the receiver confirms its SHA-256', async () => {
    const log = await demo();
    expect(log[2]).toBe('match: true');
    expect(log).toEqual([
      'sent 524288 bytes, sha256 1025d7d0c41247463a5bb9b6b698234d18a36abf9c95bb11b1caaa6b2911a67a',
      'receiver says: 524288 1025d7d0c41247463a5bb9b6b698234d18a36abf9c95bb11b1caaa6b2911a67a',
      'match: true',
      'retransmitted segments: 10, frames lost: 10',
      // 240 ms since tail loss probes and PRR (was 260 ms with RTO-only tail recovery).
      'done at t=240 ms (virtual)',
    ]);
  });

  it('works for other seeds and sizes too', async () => {
    for (const [size, seed] of [
      [1, 1],
      [100_000, 2],
      [300_001, 3],
    ] as const) {
      expect((await demo(size, seed))[2]).toBe('match: true');
    }
  });
});
