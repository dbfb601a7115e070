/**
 * Every benchmark case, in the order `npm run bench` runs and prints them.
 * To add one: write bench/<name>.ts exporting a BenchCase, and list it here.
 */
import { checksumCase } from './checksum.js';
import type { BenchCase } from './lib/harness.js';

export const cases: readonly BenchCase[] = [checksumCase];
