/**
 * Stage 1 — load: read fluxbase.config.yaml, parse it with source positions, substitute
 * `${env:NAME}` / `${env:NAME:-default}`, and index where every value came from.
 *
 * Nothing here validates the shape (that is validate.ts); everything here reports problems as
 * diagnostics with file:line:column and never throws for user errors.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, Scalar, type Node } from 'yaml';
import { error, type Diagnostic } from '../diag/index.js';
import { SourceIndex, toPointer, type SourceRange } from './source-index.js';
import { readSynthSources } from './synth-sources.js';

/** A config document after loading: plain JSON data plus where each value came from. */
export interface LoadedDocument {
  /** Path of the file as given (used in diagnostics). */
  file: string;
  /** The document as plain JSON data (after env substitution); `undefined` when it did not parse. */
  data: unknown;
  /** Source positions by JSON pointer. */
  sources: SourceIndex;
  /**
   * Directory relative paths in the document (`state.path`) are resolved against: the app's
   * working directory for a synthesised document with its sources (synth-sources.ts); absent for
   * an ordinary file (its own directory).
   */
  projectDir?: string;
  /**
   * JSON pointers of scalars that were exactly one plain `${env:…}` reference. Validation may give
   * them the type the schema expects (`"true"` → true, `"12"` → 12), so a boolean or number can
   * come from the environment; everything else keeps YAML's own typing.
   */
  envScalars: Set<string>;
  diagnostics: Diagnostic[];
}

/** Options for {@link loadConfigFile} and {@link loadConfigText}. */
export interface LoadOptions {
  /** Environment for `${env:…}`; defaults to process.env. */
  env?: Record<string, string | undefined>;
}

const ENV_REF = /\$\$\{|\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const WHOLE_ENV_REF = /^\$\{env:[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$/;

/** Reads and loads a config file. A missing or unreadable file is a `config.read` diagnostic. */
export async function loadConfigFile(file: string, options: LoadOptions = {}): Promise<LoadedDocument> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (e as Error).message;
    return {
      file,
      data: undefined,
      sources: new SourceIndex(file),
      envScalars: new Set(),
      diagnostics: [
        error('config.read', `cannot read ${file}: ${reason}`, {
          detail: `Pass the configuration with -c FILE, or create ${path.basename(file)} (see README.md).`,
        }),
      ],
    };
  }
  const doc = loadConfigText(text, file, options);
  // A construct app's document: locate everything at the TypeScript that declared it.
  const synth = path.basename(file) === SYNTH_FILE_NAME ? await readSynthSources(file, text) : undefined;
  if (!synth) return doc;
  return {
    ...doc,
    sources: synth.sources,
    projectDir: synth.projectDir,
    diagnostics: doc.diagnostics.map((d) => (d.path ? { ...d, location: synth.sources.locate(toPointer(d.path)) } : d)),
  };
}

/** File name construct apps synthesise (src/constructs/synth.ts SYNTH_FILE). */
const SYNTH_FILE_NAME = 'fluxbase.json';

/**
 * Loads config text. YAML syntax errors and duplicate keys are reported with their position (a
 * duplicate key is always an error: collections are keyed by name so duplicates are impossible);
 * an unset `${env:NAME}` without a default is a `config.env-unset` diagnostic naming the variable.
 */
export function loadConfigText(text: string, file: string, options: LoadOptions = {}): LoadedDocument {
  const env = options.env ?? process.env;
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true });
  const sources = new SourceIndex(file);
  const envScalars = new Set<string>();
  const diagnostics: Diagnostic[] = [];
  const at = (offset: number) => {
    const p = lineCounter.linePos(offset);
    return { file, line: p.line, column: p.col };
  };
  const rangeOf = (node: Node | null | undefined): SourceRange | undefined =>
    node?.range ? { start: at(node.range[0]), end: at(node.range[1]) } : undefined;

  for (const e of doc.errors) {
    const duplicate = e.code === 'DUPLICATE_KEY';
    diagnostics.push(
      error(duplicate ? 'config.duplicate-key' : 'config.yaml-syntax', firstLine(e.message), {
        location: at(e.pos[0]),
        detail: duplicate
          ? 'Each collection is a map keyed by the resource name, so a name can appear only once. Remove or rename one of the entries.'
          : 'Fix the YAML syntax at this position.',
      }),
    );
  }
  if (diagnostics.length > 0) return { file, data: undefined, sources, envScalars, diagnostics };

  const walk = (node: unknown, segments: (string | number)[], keyRange?: SourceRange): void => {
    const pointer = toPointer(segments);
    const range = rangeOf(node as Node);
    if (range) sources.set(pointer, range, keyRange);
    if (isAlias(node)) {
      // `*name` without an earlier `&name`: yaml's toJS would throw (the anchor must come first).
      if (node.resolve(doc) === undefined) {
        diagnostics.push(
          error('config.yaml-syntax', `undefined alias *${node.source}`, {
            path: segments,
            location: range?.start,
            detail: `Define the anchor before using it (\`&${node.source}\` on an earlier value), or write the value here.`,
          }),
        );
      }
    } else if (isMap(node)) {
      for (const item of node.items) {
        if (!isPair(item)) continue;
        const key = isScalar(item.key) ? String(item.key.value) : String(item.key);
        walk(item.value, [...segments, key], rangeOf(item.key as Node));
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item, [...segments, i]));
    } else if (isScalar(node) && typeof node.value === 'string' && node.value.includes('${')) {
      const raw = node.value;
      const missing: string[] = [];
      node.value = raw.replace(ENV_REF, (match, name: string | undefined, fallback: string | undefined) => {
        if (match === '$${') return '${';
        const value = env[name!];
        if (value !== undefined && value !== '') return value;
        if (fallback !== undefined) return fallback;
        missing.push(name!);
        return '';
      });
      if (WHOLE_ENV_REF.test(raw) && node.type === Scalar.PLAIN) envScalars.add(pointer);
      for (const name of missing) {
        diagnostics.push(
          error('config.env-unset', `environment variable ${name} is not set`, {
            path: segments,
            location: range?.start,
            detail: `Set ${name} in the environment, or give a default with \${env:${name}:-value}.`,
          }),
        );
      }
    }
  };
  walk(doc.contents, []);
  if (diagnostics.some((d) => d.code === 'config.yaml-syntax')) return { file, data: undefined, sources, envScalars, diagnostics };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 }) as unknown;
  } catch (e) {
    // e.g. an alias expanding beyond maxAliasCount (a "billion laughs" document)
    diagnostics.push(error('config.yaml-syntax', firstLine((e as Error).message), { location: { file, line: 1, column: 1 }, detail: 'Fix the YAML document (anchors and aliases).' }));
    return { file, data: undefined, sources, envScalars, diagnostics };
  }
  return { file, data, sources, envScalars, diagnostics };
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}
