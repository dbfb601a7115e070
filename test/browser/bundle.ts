/**
 * Bundles the page script for the browser with esbuild (platform 'browser',
 * ESM, in memory) and says why a bundle is not browser-clean: a `node:`
 * import or a Node builtin anywhere in the import graph fails the build, and
 * every input must be core source (src/) or the page's own files.
 */
import { build } from 'esbuild';
import type { Message, Metafile } from 'esbuild';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const PAGE_ENTRY = fileURLToPath(new URL('./page-entry.ts', import.meta.url));

export interface PageBundle {
  /** The bundled ESM code, or '' when the build failed. */
  readonly code: string;
  /** Inputs relative to the repository root ('src/stack/stack.ts', ...). */
  readonly inputs: readonly string[];
  /** What each input outside src/ imports (repository-relative), to prove the page reaches the core only through src/index.ts. */
  readonly pageImports: Readonly<Record<string, readonly string[]>>;
  /** Why the bundle cannot go into a browser; empty when it can. */
  readonly problems: readonly string[];
}

function formatMessage(m: Message): string {
  const where = m.location === null ? '' : `${m.location.file}:${m.location.line}:${m.location.column}: `;
  const notes = m.notes.map((n) => ` (${n.text})`).join('');
  return `${where}${m.text}${notes}`;
}

export interface BundleOptions {
  /** Bundle this source text instead of a file (for the checker's own tests). */
  readonly stdin?: string;
  /** Inputs allowed besides src/**: repository-relative paths. */
  readonly allowedInputs?: readonly string[];
}

export async function bundlePage(entry: string = PAGE_ENTRY, options: BundleOptions = {}): Promise<PageBundle> {
  const problems: string[] = [];
  let code = '';
  let metafile: Metafile | undefined;
  try {
    const result = await build({
      ...(options.stdin === undefined
        ? { entryPoints: [entry] }
        : { stdin: { contents: options.stdin, loader: 'ts', resolveDir: path.dirname(entry), sourcefile: entry } }),
      // Paths in the metafile are then repository-relative, whatever the cwd.
      absWorkingDir: ROOT,
      bundle: true,
      platform: 'browser',
      format: 'esm',
      target: 'es2022',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    problems.push(...result.errors.map(formatMessage));
    code = result.outputFiles[0]?.text ?? '';
    metafile = result.metafile;
  } catch (e) {
    // esbuild throws a BuildFailure carrying the messages, e.g.
    // 'Could not resolve "node:fs" (The package "node:fs" wasn't found ... built into node ...)'.
    const errors = (e as { errors?: Message[] }).errors;
    if (Array.isArray(errors) && errors.length > 0) problems.push(...errors.map(formatMessage));
    else problems.push(String(e));
  }
  const slash = (p: string): string => p.split(path.sep).join('/');
  const inputs = metafile === undefined ? [] : Object.keys(metafile.inputs).map(slash);
  const pageImports: Record<string, string[]> = {};
  for (const [input, info] of Object.entries(metafile?.inputs ?? {})) {
    if (slash(input).startsWith('src/')) continue;
    pageImports[slash(input)] = info.imports.map((i) => slash(i.path));
  }
  const allowed = new Set(options.allowedInputs ?? ['test/browser/page-entry.ts', 'test/browser/scenario.ts']);
  for (const input of inputs) {
    const rel = slash(path.relative(ROOT, path.resolve(ROOT, input)));
    if (input.startsWith('node:')) {
      problems.push(`Node builtin in the bundle: ${input}`);
    } else if (!rel.startsWith('src/') && !allowed.has(rel)) {
      problems.push(`input outside the core source: ${rel}`);
    } else if (rel.startsWith('src/node') || rel.startsWith('src/link/tun') || rel.startsWith('src/cli')) {
      problems.push(`Node-only module in the bundle: ${rel}`);
    }
  }
  return { code: problems.length === 0 ? code : '', inputs, pageImports, problems };
}
