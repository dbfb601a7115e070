/**
 * The page script: esbuild bundles this file for the browser and the page
 * runs it as a module. It only hands the scenario to whoever drives the page
 * (`globalThis.__sockstack.run(params)`), so the test chooses the parameters
 * and gets the result back through page.evaluate().
 */
import { runConnectScenario } from './scenario.js';
import type { ScenarioParams, ScenarioResult } from './scenario.js';

export interface PageHook {
  run(params: ScenarioParams): Promise<ScenarioResult>;
}

(globalThis as { __sockstack?: PageHook }).__sockstack = { run: runConnectScenario };
