export * from './congestion-controller.js';
export * from './create.js';
export { CubicController, CUBIC_ALPHA, CUBIC_BETA, CUBIC_C, cubeRoot, cubicK, cubicWindow } from './cubic.js';
export { RenoController } from './reno.js';
