/**
 * Where a synthesised document came from. `app.synth()` (src/constructs/synth.ts) writes
 * `fluxbase.sources.json` beside `fluxbase.json`: the app's working directory (the project) and,
 * for every construct, its construct path and where the user's code created it. Loading
 * `fluxbase.json` reads it, so that
 *
 * - diagnostics point at the user's TypeScript (`infra/fluxbase.ts:12:1`), not into the JSON
 *   (which `--app` writes to a temporary directory and deletes);
 * - relative paths in the document (the state file) are resolved against the project, so
 *   `--app "npx tsx infra/fluxbase.ts"` and `-c cdk.out/fluxbase.json` use one state.
 *
 * The file records the SHA-256 of the `fluxbase.json` it describes and is ignored when it does not
 * match (the JSON was edited or synthesised by something else).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { SourceLocation } from '../diag/index.js';
import { SourceIndex } from './source-index.js';

/** File name of the sources sidecar, in the synthesised document's directory. */
export const SYNTH_SOURCES_FILE = 'fluxbase.sources.json';

/** One construct: its path (`tenants/acme/webhooks/x`) and creation site, file relative to the sidecar. */
export interface ConstructSource {
  constructPath: string;
  file?: string;
  line?: number;
  column?: number;
}

/** The sidecar document. */
export interface SynthSources {
  format: 'fluxbase-iac-synth-sources';
  version: 1;
  /** `sha256:<hex>` of the fluxbase.json text it describes. */
  document: string;
  /** The app's working directory, relative to the sidecar's directory. */
  project: string;
  /** JSON pointer of each construct's place in the document (`''` is the app). */
  constructs: Record<string, ConstructSource>;
}

/** `sha256:<hex>` of a document's text. */
export function documentHash(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** A synthesised document's sources, resolved: where relative paths start, and a source index. */
export interface ResolvedSynthSources {
  /** Absolute path of the app's working directory. */
  projectDir: string;
  /** JSON pointer → the creation site of the construct that declared it (nearest ancestor). */
  sources: SourceIndex;
}

/**
 * The sources of the synthesised document `file` with text `text`, or undefined when it has no
 * (matching) sidecar. Sites are reported relative to the working directory when inside it.
 */
export async function readSynthSources(file: string, text: string): Promise<ResolvedSynthSources | undefined> {
  const dir = path.dirname(path.resolve(file));
  let doc: SynthSources;
  try {
    doc = JSON.parse(await readFile(path.join(dir, SYNTH_SOURCES_FILE), 'utf8')) as SynthSources;
  } catch {
    return undefined;
  }
  if (doc?.format !== 'fluxbase-iac-synth-sources' || doc.version !== 1 || doc.document !== documentHash(text)) return undefined;
  const sources = new SourceIndex(file);
  for (const [pointer, c] of Object.entries(doc.constructs ?? {})) {
    if (!c.file || !c.line) continue;
    const absolute = path.resolve(dir, c.file);
    const relative = path.relative(process.cwd(), absolute);
    const at: SourceLocation = { file: relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : absolute, line: c.line, column: c.column ?? 1 };
    sources.set(pointer, { start: at, end: at });
  }
  return { projectDir: path.resolve(dir, doc.project ?? '.'), sources };
}
