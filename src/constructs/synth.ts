/**
 * Synthesis: render the tree, validate the document exactly as `fluxbase plan -c FILE` would
 * (the ordinary loader, JSON Schema and semantic checks), map every diagnostic back to the
 * construct that declared the value, and write `<outdir>/fluxbase.json` only when there is no
 * error, with `<outdir>/fluxbase.sources.json` beside it (engine/synth-sources.ts).
 *
 * The validator stops at schema errors before its semantic checks, so one pass would hide the
 * semantic errors of the rest of the tree. Synth therefore drops the constructs that have errors
 * from the document and validates again, until a pass finds no new error: every construct's
 * errors are reported at once.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Construct } from 'constructs';
import type { Diagnostic } from '../diag/index.js';
import { loadConfigText } from '../engine/load.js';
import { toPointer } from '../engine/source-index.js';
import { validateDocument } from '../engine/validate.js';
import { internalsOf } from './base.js';
import { SynthError, type ConstructDiagnostic } from './diagnostics.js';
import { constructDiagnostic, renderTree, type RenderedTree } from './render.js';
import { documentHash, SYNTH_SOURCES_FILE, type ConstructSource, type SynthSources } from '../engine/synth-sources.js';

/** File name of the synthesised document inside the output directory. */
export const SYNTH_FILE = 'fluxbase.json';

/** Options of `app.synth()`. */
export interface SynthOptions {
  /**
   * Environment read at synth time: whether each `Secret.fromEnv` variable is set, and
   * `FLUXBASE_OUTDIR`. Default: process.env. Secret values are never read into the output.
   */
  env?: Record<string, string | undefined>;
}

/** What `app.synth()` wrote. */
export interface SynthResult {
  /** Absolute path of the written file, `<outdir>/fluxbase.json`. */
  file: string;
  /** The file's text: deterministic JSON (sorted keys, 2-space indent, trailing newline). */
  text: string;
  /** The document as written (secrets as `${env:NAME}` references). */
  document: Record<string, unknown>;
  /** Warnings (there are no errors when synth returns), with construct paths. */
  diagnostics: ConstructDiagnostic[];
}

/**
 * The output directory: `FLUXBASE_OUTDIR` when set (the CLI sets it when it runs an app, and must
 * find the file there), else the app's `outdir`, else `cdk.out`; relative to the working directory.
 */
export function resolveOutdir(outdir: string | undefined, env: Record<string, string | undefined>): string {
  return path.resolve(env.FLUXBASE_OUTDIR || outdir || 'cdk.out');
}

/** Synthesises the app under `root`. Throws SynthError (nothing written) when there are errors. */
export async function synthesize(root: Construct, outdir: string | undefined, options: SynthOptions = {}): Promise<SynthResult> {
  const env = options.env ?? process.env;
  const file = path.join(resolveOutdir(outdir, env), SYNTH_FILE);
  const tree = renderTree(root, env);
  const text = serialise(tree.document);
  const diagnostics = [...tree.diagnostics, ...(await validateTree(tree, text, file))];
  const ordered = orderDiagnostics(diagnostics, tree);
  if (ordered.some((d) => d.severity === 'error')) throw new SynthError(ordered);
  await mkdir(path.dirname(file), { recursive: true });
  // The sources first: a fluxbase.json is never read with a sidecar describing another one (the
  // sidecar carries the document's hash and is ignored when it does not match).
  await writeAtomically(path.join(path.dirname(file), SYNTH_SOURCES_FILE), serialise(sourcesOf(tree, text, path.dirname(file)) as unknown as Record<string, unknown>));
  await writeAtomically(file, text);
  return { file, text, document: tree.document, diagnostics: ordered };
}

async function writeAtomically(file: string, text: string): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, file);
}

/**
 * The sidecar (engine/synth-sources.ts): the working directory and every construct's path and
 * creation site, relative to the output directory, so the CLI can point at the user's code and
 * keep the state in the project whichever way the document is given to it.
 */
function sourcesOf(tree: RenderedTree, text: string, outdir: string): SynthSources {
  const constructs: Record<string, ConstructSource> = {};
  for (const [pointer, c] of [...tree.declared.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const site = internalsOf(c)?.site;
    constructs[pointer] = {
      constructPath: c.node.path,
      ...(site ? { file: path.relative(outdir, path.resolve(site.file)), line: site.line, column: site.column } : {}),
    };
  }
  return { format: 'fluxbase-iac-synth-sources', version: 1, document: documentHash(text), project: path.relative(outdir, process.cwd()) || '.', constructs };
}

/** Deterministic JSON text of the document (its keys are already in order). */
export function serialise(document: Record<string, unknown>): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** Validates the document with the project's validator, pruning constructs with errors between passes. */
async function validateTree(tree: RenderedTree, text: string, file: string): Promise<ConstructDiagnostic[]> {
  // Secret references are validated with a placeholder: only their presence matters here, and the
  // real values never enter this process's output.
  const env = Object.fromEntries([...tree.secretNames].map((name) => [name, 'secret-placeholder']));
  const found: ConstructDiagnostic[] = [];
  const seen = new Set<string>();
  let document = tree.document;
  let current = text;
  for (let pass = 0; pass < 64; pass++) {
    const { diagnostics } = await validateDocument(loadConfigText(current, file, { env }));
    const failed = new Map<string, Construct>();
    for (const d of diagnostics) {
      const { diagnostic, construct, pointer } = mapDiagnostic(d, tree);
      const key = `${diagnostic.constructPath}|${diagnostic.propPath.join('.')}|${d.code}|${d.summary}`;
      if (!seen.has(key)) {
        seen.add(key);
        found.push(diagnostic);
      }
      if (d.severity === 'error') failed.set(pointer, construct);
    }
    if (failed.size === 0 || failed.has('')) break;
    document = prune(document, [...failed.keys()]);
    current = serialise(document);
  }
  return found;
}

/** The construct that declared the value at a diagnostic's path (the longest declared prefix). */
function mapDiagnostic(d: Diagnostic, tree: RenderedTree): { diagnostic: ConstructDiagnostic; construct: Construct; pointer: string } {
  const configPath = d.path ?? [];
  for (let n = configPath.length; n >= 0; n--) {
    const pointer = toPointer(configPath.slice(0, n));
    const construct = tree.declared.get(pointer);
    if (!construct) continue;
    const { location: _jsonPosition, ...rest } = d;
    const mapped = constructDiagnostic(construct, d.code, d.summary, { propPath: configPath.slice(n), path: configPath, severity: d.severity });
    return { diagnostic: { ...rest, ...mapped }, construct, pointer };
  }
  throw new Error(`no construct declares ${JSON.stringify(configPath)}`); // the app declares '' — unreachable
}

/** A copy of the document without the values at `pointers`. */
function prune(document: Record<string, unknown>, pointers: string[]): Record<string, unknown> {
  const copy = structuredClone(document);
  for (const pointer of pointers) {
    const segments = pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    const parent = segments.slice(0, -1).reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], copy);
    if (parent && typeof parent === 'object') delete (parent as Record<string, unknown>)[segments[segments.length - 1]!];
  }
  return copy;
}

/** Diagnostics in tree order of their constructs, then by prop path. */
function orderDiagnostics(diagnostics: ConstructDiagnostic[], tree: RenderedTree): ConstructDiagnostic[] {
  const rank = new Map<string, number>();
  for (const [c, i] of tree.order) if (internalsOf(c)) rank.set(c.node.path || '(app)', i);
  const index = (d: ConstructDiagnostic) => rank.get(d.constructPath) ?? Number.MAX_SAFE_INTEGER;
  return diagnostics
    .map((d, i) => ({ d, i }))
    .sort((a, b) => index(a.d) - index(b.d) || a.i - b.i)
    .map(({ d }) => d);
}
