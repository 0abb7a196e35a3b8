/**
 * Stage 1 — load: read fluxbase.config.yaml, parse it with source positions, substitute
 * `${env:NAME}` / `${env:NAME:-default}`, and index where every value came from.
 *
 * Nothing here validates the shape (that is validate.ts); everything here reports problems as
 * diagnostics with file:line:column and never throws for user errors.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  boolCoreTag,
  constructFromEvents,
  CORE_SCHEMA,
  defineMappingTag,
  defineScalarTag,
  EVENT_ID,
  floatCoreTag,
  getScalarValue,
  intCoreTag,
  NOT_RESOLVED,
  nullCoreTag,
  parseEvents,
  SCALAR_STYLE,
  type Event,
  type ScalarEvent,
} from 'js-yaml';
import { createRequire } from 'node:module';
import type { Document, LineCounter, Node } from 'yaml';
import { error, type Diagnostic, type SourceLocation } from '../diag/index.js';
import { fromPointer, SourceIndex, toPointer, type SourceRange } from './source-index.js';
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
 *
 * Two readers give the same result. A plain document (one document, no anchors, aliases, tags or
 * directives, every referenced variable set) is read with js-yaml's event parser, about ten times
 * faster than `yaml` and without a syntax tree in memory; its source positions are computed only
 * when a diagnostic asks for one (see {@link SourceIndex}). Everything else — any syntax error,
 * anything unusual, a number js-yaml would read differently — is read by `yaml`, which has the
 * last word and reports the errors.
 */
export function loadConfigText(text: string, file: string, options: LoadOptions = {}): LoadedDocument {
  const env = options.env ?? process.env;
  return loadPlain(text, file, env) ?? loadConfigTextWithYaml(text, file, options);
}

/**
 * {@link loadConfigText} reading everything with `yaml`: every error with its position, every
 * value's position indexed at once. The reference the fast reader is tested against.
 */
export function loadConfigTextWithYaml(text: string, file: string, options: LoadOptions = {}): LoadedDocument {
  const env = options.env ?? process.env;
  const { doc, lineCounter } = parseWithPositions(text);
  const sources = new SourceIndex(file);
  const envScalars = new Set<string>();
  const diagnostics: Diagnostic[] = [];
  const at = (offset: number) => {
    const p = lineCounter.linePos(offset);
    return { file, line: p.line, column: p.col };
  };

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

  visitNodes(doc.contents, [], undefined, (node, segments, keyNode) => {
    const range = rangeOf(node, file, lineCounter);
    const pointer = toPointer(segments);
    if (range) sources.set(pointer, range, rangeOf(keyNode, file, lineCounter));
    if (yaml().isAlias(node)) {
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
    } else if (yaml().isScalar(node) && typeof node.value === 'string' && node.value.includes('${')) {
      const raw = node.value;
      const { value, missing } = substitute(raw, env);
      node.value = value;
      if (WHOLE_ENV_REF.test(raw) && node.type === yaml().Scalar.PLAIN) envScalars.add(pointer);
      for (const name of missing) diagnostics.push(envUnset(name, segments, range?.start));
    }
  });
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

/** `yaml`, loaded on first use: a configuration without problems is read without it. */
function yaml(): typeof import('yaml') {
  return createRequire(import.meta.url)('yaml') as typeof import('yaml');
}

function parseWithPositions(text: string): { doc: Document.Parsed; lineCounter: LineCounter } {
  const { LineCounter, parseDocument } = yaml();
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true });
  return { doc, lineCounter };
}

function rangeOf(node: unknown, file: string, lineCounter: LineCounter): SourceRange | undefined {
  const range = (node as Node | null | undefined)?.range;
  if (!range) return undefined;
  const at = (offset: number) => {
    const p = lineCounter.linePos(offset);
    return { file, line: p.line, column: p.col };
  };
  return { start: at(range[0]), end: at(range[1]) };
}

/** Calls `fn` for every node of a `yaml` tree, parents first, with its path and its map key node. */
function visitNodes(node: unknown, segments: (string | number)[], keyNode: unknown, fn: (node: unknown, segments: (string | number)[], keyNode: unknown) => void): void {
  const { isMap, isPair, isScalar, isSeq } = yaml();
  fn(node, segments, keyNode);
  if (isMap(node)) {
    for (const item of node.items) {
      if (!isPair(item)) continue;
      const key = isScalar(item.key) ? String(item.key.value) : String(item.key);
      visitNodes(item.value, [...segments, key], item.key, fn);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => visitNodes(item, [...segments, i], undefined, fn));
  }
}

/** The source positions of every value of `text` (as {@link loadWithYaml} records them). */
function indexPositions(text: string, sources: SourceIndex): void {
  const { doc, lineCounter } = parseWithPositions(text);
  visitNodes(doc.contents, [], undefined, (node, segments, keyNode) => {
    const range = rangeOf(node, sources.file, lineCounter);
    if (range) sources.set(toPointer(segments), range, rangeOf(keyNode, sources.file, lineCounter));
  });
}

/** `${env:…}` references of `raw` replaced (`$${` is a literal `${`); names that are unset without a default. */
function substitute(raw: string, env: Record<string, string | undefined>): { value: string; missing: string[] } {
  const missing: string[] = [];
  const value = raw.replace(ENV_REF, (match, name: string | undefined, fallback: string | undefined) => {
    if (match === '$${') return '${';
    const v = env[name!];
    if (v !== undefined && v !== '') return v;
    if (fallback !== undefined) return fallback;
    missing.push(name!);
    return '';
  });
  return { value, missing };
}

function envUnset(name: string, segments: (string | number)[], location: SourceLocation | undefined): Diagnostic {
  return error('config.env-unset', `environment variable ${name} is not set`, {
    path: segments,
    location,
    detail: `Set ${name} in the environment, or give a default with \${env:${name}:-value}.`,
  });
}

/**
 * Reads a plain document with js-yaml (see {@link loadConfigText}), or returns undefined for
 * `yaml` to read it: on any error, on anchors, aliases, tags, directives or several documents,
 * on a number the two libraries would read differently, and when a referenced variable is unset
 * (so that diagnostic carries its position).
 */
function loadPlain(text: string, file: string, env: Record<string, string | undefined>): LoadedDocument | undefined {
  let events: Event[];
  let data: unknown;
  try {
    events = parseEvents(text, {});
    if (!isPlain(events)) return undefined;
    data = constructFromEvents(events, { source: text, schema: PLAIN_SCHEMA })[0];
  } catch {
    return undefined;
  }
  const envScalars = new Set<string>();
  // `${env:…}` in values (never in keys), found on the event stream, where scalar styles are known.
  const frames: { map: boolean; index: number; key?: ScalarEvent; expectKey: boolean }[] = [];
  const afterValue = () => {
    const top = frames[frames.length - 1];
    if (top?.map) top.expectKey = true;
    else if (top) top.index++;
  };
  for (const e of events) {
    if (e.type === EVENT_ID.DOCUMENT) frames.push({ map: false, index: 0, expectKey: false });
    else if (e.type === EVENT_ID.MAPPING || e.type === EVENT_ID.SEQUENCE) frames.push({ map: e.type === EVENT_ID.MAPPING, index: 0, expectKey: true });
    else if (e.type === EVENT_ID.POP) {
      frames.pop();
      afterValue();
    } else if (e.type === EVENT_ID.SCALAR) {
      const top = frames[frames.length - 1]!;
      if (top.map && top.expectKey) {
        top.key = e;
        top.expectKey = false;
        continue;
      }
      const raw = e.valueStart < 0 ? '' : text.slice(e.valueStart, e.valueEnd);
      if (raw.includes('$') || (e.style === SCALAR_STYLE.DOUBLE_QUOTED && raw.includes('\\'))) {
        const segments = frames.slice(1).map((f) => (f.map ? keyOf(text, f.key!) : f.index));
        const parent = segments.slice(0, -1).reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], data) as Record<string | number, unknown> | undefined;
        const last = segments[segments.length - 1];
        const value = last === undefined ? data : parent![last];
        if (typeof value === 'string' && value.includes('${')) {
          const { value: substituted, missing } = substitute(value, env);
          if (missing.length > 0) return undefined;
          if (last === undefined) data = substituted;
          else parent![last] = substituted;
          if (WHOLE_ENV_REF.test(value) && e.style === SCALAR_STYLE.PLAIN) envScalars.add(toPointer(segments));
        }
      }
      afterValue();
    }
  }
  const sources = new SourceIndex(file, (index) => {
    const locator = locatorFromEvents(text, file);
    if (locator) index.locateWith(locator);
    else indexPositions(text, index);
  });
  return { file, data, sources, envScalars, diagnostics: [] };
}

/**
 * Locates values of a plain document from js-yaml's events (a second parse, about ten times
 * cheaper than `yaml`'s) without indexing every node: each lookup walks down the pointer's path,
 * skipping over collections it does not enter. Positions are the offsets `yaml` gives its nodes:
 * a collection at its first character, a plain scalar at its text, a quoted one at its opening
 * quote; keys likewise; lines counted from every line feed; the deepest existing node answers a
 * pointer that goes further. Block scalars, empty values, a byte-order mark and lone carriage
 * returns are placed differently by the two libraries: then undefined is returned, for `yaml` to
 * index the document. `test/unit/load.test.ts` compares every position with `yaml`'s.
 */
function locatorFromEvents(text: string, file: string): ((pointer: string, preferKey: boolean) => SourceLocation) | undefined {
  if (text.charCodeAt(0) === 0xfeff || /\r(?!\n)/.test(text)) return undefined;
  const events = parseEvents(text, {});
  // The events as columns of numbers (the event objects are dropped): kind, where the node
  // starts as `yaml` places it, and for each collection the index of the event that closes it.
  const n = events.length;
  const kind = new Uint8Array(n);
  const begin = new Int32Array(n);
  const end = new Int32Array(n);
  // Keys are decoded again when a lookup compares them: what getScalarValue reads of a scalar.
  const scalar = { valueEnd: new Int32Array(n), style: new Uint8Array(n), fast: new Uint8Array(n), indent: new Int32Array(n), chomping: new Uint8Array(n) };
  const open: number[] = [];
  let root = -1;
  for (let i = 0; i < n; i++) {
    const e = events[i]!;
    kind[i] = e.type;
    if (e.type === EVENT_ID.SCALAR) {
      if (e.valueStart < 0 || e.style === SCALAR_STYLE.LITERAL_BLOCK || e.style === SCALAR_STYLE.FOLDED_BLOCK) return undefined;
      begin[i] = e.valueStart;
      end[i] = i;
      scalar.valueEnd[i] = e.valueEnd;
      scalar.style[i] = e.style;
      scalar.fast[i] = e.fast ? 1 : 0;
      scalar.indent[i] = e.indent;
      scalar.chomping[i] = e.chomping;
    } else if (e.type === EVENT_ID.MAPPING || e.type === EVENT_ID.SEQUENCE) {
      begin[i] = e.start;
      open.push(i);
    } else if (e.type === EVENT_ID.POP && open.length > 0) end[open.pop()!] = i;
    if (root < 0 && e.type !== EVENT_ID.DOCUMENT) root = i;
  }
  const keyAt = (i: number): string =>
    indexKeyOf(text, {
      type: EVENT_ID.SCALAR,
      valueStart: begin[i]!,
      valueEnd: scalar.valueEnd[i]!,
      anchorStart: -1,
      anchorEnd: -1,
      tagStart: -1,
      tagEnd: -1,
      style: scalar.style[i] as ScalarEvent['style'],
      chomping: scalar.chomping[i] as ScalarEvent['chomping'],
      indent: scalar.indent[i]!,
      fast: scalar.fast[i] === 1,
    });
  const lineStarts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const at = (offset: number): SourceLocation => {
    let low = 0;
    let high = lineStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (lineStarts[mid]! <= offset) low = mid;
      else high = mid - 1;
    }
    return { file, line: low + 1, column: offset - lineStarts[low]! + 1 };
  };
  const start = (i: number): number => (kind[i] === EVENT_ID.SCALAR && scalar.style[i] !== SCALAR_STYLE.PLAIN ? begin[i]! - 1 : begin[i]!);
  return (pointer, preferKey) => {
    let node = root;
    let key = -1;
    for (const segment of fromPointer(pointer)) {
      let next = -1;
      let nextKey = -1;
      if (kind[node] === EVENT_ID.MAPPING) {
        // Every pair: `yaml`'s index kept the last of two keys with the same name (null and "null").
        for (let k = node + 1; k < end[node]!; k = end[k + 1]! + 1) {
          if (keyAt(k) === segment) {
            next = k + 1;
            nextKey = k;
          }
        }
      } else if (kind[node] === EVENT_ID.SEQUENCE && /^(?:0|[1-9][0-9]*)$/.test(segment)) {
        let left = Number(segment);
        for (let i = node + 1; i < end[node]!; i = end[i]! + 1) {
          if (left-- === 0) {
            next = i;
            break;
          }
        }
      }
      if (next < 0) break;
      node = next;
      key = nextKey;
    }
    return at(preferKey && key >= 0 ? start(key) : start(node));
  };
}

/** A map key as `yaml`'s position index names it: the scalar's value as a string (a null key is `null`). */
function indexKeyOf(text: string, e: ScalarEvent): string {
  const decoded = getScalarValue(text, e);
  // Only these first characters can begin a null, a boolean or a number (YAML 1.2 core schema).
  if (e.style !== SCALAR_STYLE.PLAIN || !'~nNtTfF0123456789+-.'.includes(decoded.charAt(0))) return decoded;
  for (const tag of [nullCoreTag, boolCoreTag, intCoreTag, floatCoreTag]) {
    const value = tag.resolve(decoded, false, tag.tagName);
    if (value !== NOT_RESOLVED) return String(value);
  }
  return decoded;
}

/** One document without directives, anchors, aliases or tags (what js-yaml and `yaml` read alike). */
function isPlain(events: readonly Event[]): boolean {
  let documents = 0;
  for (const e of events) {
    if (e.type === EVENT_ID.DOCUMENT) {
      if (++documents > 1 || e.directives.length > 0) return false;
    } else if (e.type === EVENT_ID.ALIAS) return false;
    else if (e.type !== EVENT_ID.POP && (e.anchorStart !== -1 || e.tagStart !== -1)) return false;
  }
  return documents === 1;
}

/** A map key as the plain-object map stores it (see PLAIN_SCHEMA). */
function keyOf(text: string, e: ScalarEvent): string {
  const decoded = getScalarValue(text, e);
  if (e.style !== SCALAR_STYLE.PLAIN) return decoded;
  for (const tag of [nullCoreTag, boolCoreTag, intCoreTag, floatCoreTag]) {
    const value = tag.resolve(decoded, false, tag.tagName);
    if (value !== NOT_RESOLVED) return value === null ? '' : String(value);
  }
  return decoded;
}

/**
 * js-yaml's YAML 1.2 core schema, adjusted to read exactly as `yaml` does: a null key is `''`
 * (js-yaml: `'null'`), and a number js-yaml would keep as a string because it overflows
 * (`1e400`; `yaml`: Infinity) throws, so that `yaml` reads the document.
 */
const PLAIN_SCHEMA = CORE_SCHEMA.withTags(
  defineMappingTag<Record<string, unknown>>('tag:yaml.org,2002:map', {
    create: () => ({}),
    identify: () => false,
    addPair: (container, key, value) => {
      if (key !== null && typeof key === 'object') return 'complex keys are read by yaml';
      const name = key === null ? '' : String(key);
      if (name === '__proto__') Object.defineProperty(container, name, { value, enumerable: true, configurable: true, writable: true });
      else container[name] = value;
      return '';
    },
    has: (container, key) => (key === null || typeof key !== 'object') && Object.prototype.hasOwnProperty.call(container, key === null ? '' : String(key)),
    keys: (container) => Object.keys(container),
    get: (container, key) => container[key === null ? '' : String(key)] ?? null,
  }),
  ...(
    [
      [intCoreTag, /^(?:0o[0-7]+|0x[0-9a-fA-F]+|[-+]?[0-9]+)$/],
      [floatCoreTag, /^(?:[-+]?[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|[-+]?\.[0-9]+(?:[eE][-+]?[0-9]+)?)$/],
    ] as const
  ).map(([tag, notation]) =>
    defineScalarTag(tag.tagName, {
      ...tag,
      resolve: (source: string, isExplicit: boolean, tagName: string) => {
        const value = tag.resolve(source, isExplicit, tagName);
        // In this tag's notation but not resolved: it overflows, and `yaml` reads Infinity.
        if (value === NOT_RESOLVED && notation.test(source)) throw new Error(`${source}: read by yaml`);
        return value;
      },
    }),
  ),
);

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}
