/**
 * `createCongestionController(name, options)`: the one way the connection
 * gets a controller, so `TCP_CONGESTION` (setsockopt) maps to a name here.
 */
import type {
  CongestionControlName,
  CongestionController,
  CongestionControllerOptions,
} from './congestion-controller.js';
import { CubicController } from './cubic.js';
import { RenoController } from './reno.js';

/** Linux's default, and ours. */
export const DEFAULT_CONGESTION_CONTROL: CongestionControlName = 'cubic';

/** The names `createCongestionController` accepts (for TCP_CONGESTION validation). */
export const CONGESTION_CONTROL_NAMES: readonly CongestionControlName[] = ['cubic', 'reno'];

export function isCongestionControlName(name: string): name is CongestionControlName {
  return name === 'cubic' || name === 'reno';
}

export function createCongestionController(
  name: CongestionControlName,
  options: CongestionControllerOptions,
): CongestionController {
  switch (name) {
    case 'cubic':
      return new CubicController(options);
    case 'reno':
      return new RenoController(options);
  }
}
