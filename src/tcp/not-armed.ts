/**
 * The "timer off" instant, in its own module so that both tcb.ts and the
 * modules split from it (segment-header.ts) can use it without a cycle.
 */
import { Instant } from '../time/instant.js';

/** "Never": a timer that is not armed. */
export const NOT_ARMED = Instant.MAX;
