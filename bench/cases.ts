/**
 * Every benchmark case, in the order `npm run bench` runs and prints them.
 * To add one: write bench/<name>.ts exporting a BenchCase, and list it here.
 */
import { checksumCase } from './checksum.js';
import type { BenchCase } from './lib/harness.js';
import { tcpLossCase } from './loss.js';
import { tcpIdleMemoryCase } from './memory.js';
import { tcpBulk1500Case, tcpBulk64kCase, tcpConnectCase, tcpRrCase } from './tcp.js';
import { tunCase } from './tun.js';
import { udpPpsCase } from './udp.js';

export const cases: readonly BenchCase[] = [checksumCase, tcpBulk64kCase, tcpBulk1500Case, tcpRrCase, tcpConnectCase, udpPpsCase, tunCase, tcpIdleMemoryCase, tcpLossCase];
