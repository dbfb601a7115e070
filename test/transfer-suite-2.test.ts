/** Part 2 of the TCP transfer suite: see transfer-suite.test.ts for what and why. */
import { describe, expect, it } from 'vitest';
import type { TransferResult } from './helpers/transfer.js';
import { TRANSFER_PARTS, suiteTotals, runTransfer, seedsFor, transferEnv } from './helpers/transfer.js';

const PART = 1;
const { seeds, bytes } = transferEnv();
const results: TransferResult[] = [];

describe(`TCP transfer suite ${PART + 1}/${TRANSFER_PARTS}: ${bytes} bytes each way over an impaired LAN`, () => {
  it('the same seed replays the same run exactly (virtual time, every counter)', async () => {
    // Seed 403 loses its first connect to ARP (EHOSTUNREACH) and retries: the odd path replays too.
    const [a, b] = [await runTransfer(403, { bytes: 256 * 1024 }), await runTransfer(403, { bytes: 256 * 1024 })];
    expect(b).toEqual(a);
    expect(a.connectRetries).toBeGreaterThan(0);
  });

  for (const seed of seedsFor(PART, TRANSFER_PARTS, seeds)) {
    it(`seed ${seed}`, async () => {
      const r = await runTransfer(seed, { bytes });
      expect(r.seed).toBe(seed);
      results.push(r);
    });
  }

  it.runIf(seeds >= 20)('across the seeds, every impairment happened and TCP repaired it', () => {
    const t = suiteTotals(results);
    for (const k of ['dropped-loss', 'duplicated', 'reordered', 'corrupted', 'checksum-drops', 'retransmits']) {
      expect(t[k], k).toBeGreaterThan(0);
    }
  });
});
