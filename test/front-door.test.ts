// The README's two Quick start commands are the project's front door; CI runs
// the test one through .ci/run. Keep them from drifting apart.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');
const ciRun = readFileSync(new URL('.ci/run', root), 'utf8');
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
  scripts: Record<string, string>;
  exports: Record<string, unknown>;
  engines: { node: string };
};

function quickStartCommands(): string[] {
  const section = /## Quick start\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? '';
  return [...section.matchAll(/```(?:sh|bash)\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());
}

describe('front door', () => {
  it('the README quick start has exactly two commands', () => {
    const cmds = quickStartCommands();
    expect(cmds).toHaveLength(2);
    for (const c of cmds) expect(c.split('\n')).toHaveLength(1);
  });

  it('.ci/run runs exactly the README test command', () => {
    const testCmd = quickStartCommands()[1]!;
    const lines = ciRun.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
    expect(lines.at(-1)).toBe(testCmd);
  });

  it('the package runs on Node 20 and up and has core and node entry points', () => {
    expect(pkg.engines.node).toBe('>=20');
    expect(Object.keys(pkg.exports)).toEqual(expect.arrayContaining(['.', './node']));
    expect(pkg.scripts.test).toContain('vitest');
  });
});
