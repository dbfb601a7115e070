/**
 * README code cannot drift from code that runs: every ```ts block in
 * README.md preceded by `<!-- example: examples/NAME.ts -->` must equal that
 * file (which its own test runs), read the way a user of the package sees it:
 * without the file's leading doc comment, and importing 'sockstack' /
 * 'sockstack/node' where the file imports '../src/index.js' / '../src/node.js'.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../', import.meta.url);
const MARKER = /^<!-- example: (\S+) -->$/;

interface Example {
  readonly path: string;
  /** 1-based line of the marker in README.md. */
  readonly line: number;
  /** The block's code, or undefined when no ```ts block follows the marker. */
  readonly code: string | undefined;
}

/** Finds each marker and the ```ts block right after it (blank lines allowed in between). */
function extractExamples(readme: string): Example[] {
  const lines = readme.split('\n');
  const out: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = MARKER.exec(lines[i]?.trim() ?? '');
    if (m === null) continue;
    let j = i + 1;
    while (j < lines.length && lines[j]?.trim() === '') j++;
    let code: string | undefined;
    if (lines[j] === '```ts') {
      const end = lines.indexOf('```', j + 1);
      if (end > j) code = lines.slice(j + 1, end).join('\n');
    }
    out.push({ path: m[1] ?? '', line: i + 1, code });
  }
  return out;
}

/** The example file as the README shows it. */
function asShown(source: string): string {
  return source
    .replace(/^\/\*\*[\s\S]*?\*\/\n/, '')
    .replaceAll("'../src/index.js'", "'sockstack'")
    .replaceAll("'../src/node.js'", "'sockstack/node'")
    .trimEnd();
}

const readme = readFileSync(new URL('README.md', root), 'utf8');
const examples = extractExamples(readme);

describe('README examples', () => {
  it('marks the API overview examples', () => {
    expect(examples.map((e) => e.path)).toEqual(
      expect.arrayContaining([
        'examples/quickstart.ts',
        'examples/api-net.ts',
        'examples/api-dgram.ts',
        'examples/api-connect.ts',
        'examples/api-tls.ts',
        'examples/api-pg.ts',
        'examples/api-ioredis.ts',
      ]),
    );
  });

  it.each(examples.map((e) => [e.path, e] as const))('%s: README block equals the file', (_path, e) => {
    const file = new URL(e.path, root);
    expect(existsSync(file), `README.md:${e.line} names ${e.path}, which does not exist`).toBe(true);
    expect(e.code, `README.md:${e.line}: no \`\`\`ts block after the marker`).toBeDefined();
    expect(e.code).toBe(asShown(readFileSync(file, 'utf8')));
  });

  it('catches a drifted block and a marker without a block', () => {
    const file = "/** doc */\nimport { Stack } from '../src/node.js';\nconsole.log(1);\n";
    const good = "<!-- example: x.ts -->\n```ts\nimport { Stack } from 'sockstack/node';\nconsole.log(1);\n```\n";
    const [ok] = extractExamples(good);
    expect(ok?.code).toBe(asShown(file));
    const [drifted] = extractExamples(good.replace('log(1)', 'log(2)'));
    expect(drifted?.code).not.toBe(asShown(file));
    const [bare] = extractExamples('<!-- example: y.ts -->\n\nsome prose\n');
    expect(bare).toEqual({ path: 'y.ts', line: 1, code: undefined });
  });
});
