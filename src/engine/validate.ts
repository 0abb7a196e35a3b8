/**
 * Stage 2 — validate: check a loaded document against the JSON Schema (every error at once, each
 * with file:line:column), then the rules a schema cannot express (reserved identifiers, SQL
 * syntax of expressions and types, references between declared objects). Makes no API call.
 */
import type { ErrorObject } from 'ajv';
import { closest, error, type Diagnostic } from '../diag/index.js';
import type { FluxbaseConfig } from '../model/config.generated.js';
import { configValidator } from './schema.js';
import { fromPointer, type SourceIndex } from './source-index.js';
import type { LoadedDocument } from './load.js';
import { semanticDiagnostics } from './validate-semantics.js';
import { loadSqlParser } from '../sql/parser.js';
import { testSuite } from '../access/test-spec.js';

/** A config that passed validation, with the positions of its values. */
export interface ValidConfig {
  file: string;
  config: FluxbaseConfig;
  sources: SourceIndex;
  /** See LoadedDocument.projectDir (absent: the config file's directory). */
  projectDir?: string;
}

/**
 * Validates a loaded document. Returns the typed config when there are no errors, and every
 * diagnostic found (warnings included). Plain `${env:…}` scalars are given the type the schema
 * expects when their text allows it (`"true"` → true, `"12"` → 12).
 */
export async function validateDocument(
  doc: LoadedDocument,
): Promise<{ config?: ValidConfig; diagnostics: Diagnostic[] }> {
  const diagnostics = [...doc.diagnostics];
  if (doc.data === undefined || diagnostics.some((d) => d.severity === 'error')) return { diagnostics };
  if (doc.data === null || typeof doc.data !== 'object' || Array.isArray(doc.data)) {
    return {
      diagnostics: [
        ...diagnostics,
        error('config.schema', 'the document must be a YAML mapping that starts with `version: 1`', {
          location: { file: doc.file, line: 1, column: 1 },
        }),
      ],
    };
  }
  const validate = configValidator();
  let data = doc.data;
  let errors: ErrorObject[] = [];
  for (let attempt = 0; attempt < 50; attempt++) {
    validate(data);
    errors = validate.errors ?? [];
    const coerced = coerceEnvScalars(data, errors, doc.envScalars);
    if (!coerced) break;
    data = coerced;
  }
  diagnostics.push(...schemaDiagnostics(errors, doc.sources));
  if (errors.length > 0) return { diagnostics };
  await loadSqlParser();
  const config: ValidConfig = { file: doc.file, config: data as FluxbaseConfig, sources: doc.sources, ...(doc.projectDir ? { projectDir: doc.projectDir } : {}) };
  diagnostics.push(...semanticDiagnostics(config));
  diagnostics.push(...testSuite(config).diagnostics);
  if (diagnostics.some((d) => d.severity === 'error')) return { diagnostics };
  return { config, diagnostics };
}

/** Returns a copy of `data` with env-sourced scalars converted where a `type` error asks, or undefined. */
function coerceEnvScalars(data: unknown, errors: ErrorObject[], envScalars: Set<string>): unknown {
  let changed = false;
  const candidates = errors.filter((e) => e.keyword === 'type' && envScalars.has(e.instancePath));
  if (candidates.length === 0) return undefined;
  const copy = structuredClone(data);
  for (const e of candidates) {
    const segments = fromPointer(e.instancePath);
    const parent = segments.slice(0, -1).reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k], copy) as
      | Record<string, unknown>
      | undefined;
    const key = segments[segments.length - 1]!;
    const raw = parent?.[key];
    if (typeof raw !== 'string') continue;
    const wanted = ([] as string[]).concat((e.params as { type: string | string[] }).type);
    let value: unknown;
    if (wanted.includes('boolean') && (raw === 'true' || raw === 'false')) value = raw === 'true';
    else if (wanted.includes('integer') && /^-?\d+$/.test(raw)) value = Number(raw);
    else if (wanted.includes('number') && raw.trim() !== '' && Number.isFinite(Number(raw))) value = Number(raw);
    else if (wanted.includes('null') && raw === '') value = null;
    else continue;
    parent![key] = value;
    changed = true;
  }
  return changed ? copy : undefined;
}

/** Translates ajv errors into diagnostics located at the offending key or value. */
export function schemaDiagnostics(errors: readonly ErrorObject[], sources: SourceIndex): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  errors.forEach((e, i) => {
    let pointer = e.instancePath;
    let summary: string;
    let detail: string | undefined;
    let preferKey = false;
    const parentSchema = (e.parentSchema ?? {}) as Record<string, unknown>;
    switch (e.keyword) {
      case 'propertyNames': {
        const name = (e.params as { propertyName: string }).propertyName;
        // ajv reports the failing inner keyword (e.g. the identifier pattern) just before this error.
        const previous = errors[i - 1];
        const inner = previous && previous.instancePath === e.instancePath && previous.keyword !== 'propertyNames' ? previous : undefined;
        const friendly = (inner?.parentSchema as Record<string, unknown> | undefined)?.['x-pattern-message'];
        pointer = `${e.instancePath}/${escapePointer(name)}`;
        preferKey = true;
        summary = `invalid name '${name}': ${typeof friendly === 'string' ? friendly : inner?.message ?? 'not allowed'}`;
        break;
      }
      case 'additionalProperties': {
        const name = (e.params as { additionalProperty: string }).additionalProperty;
        pointer = `${e.instancePath}/${escapePointer(name)}`;
        preferKey = true;
        const allowed = Object.keys((parentSchema.properties as Record<string, unknown> | undefined) ?? {});
        const guess = closest(name, allowed);
        summary = `unknown key '${name}'${guess ? ` (did you mean '${guess}'?)` : ''}`;
        detail = allowed.length > 0 ? `Allowed keys here: ${allowed.join(', ')}.` : undefined;
        break;
      }
      case 'required': {
        const name = (e.params as { missingProperty: string }).missingProperty;
        summary = `missing required key '${name}'`;
        break;
      }
      case 'type': {
        const wanted = ([] as string[]).concat((e.params as { type: string | string[] }).type);
        summary = `must be ${humanType(wanted)}, got ${describe(e.data)}`;
        detail = quotingHint(wanted, e.data);
        break;
      }
      case 'enum':
        summary = `must be one of ${((e.params as { allowedValues: unknown[] }).allowedValues ?? [])
          .map((v) => JSON.stringify(v))
          .join(', ')}, got ${describe(e.data)}`;
        break;
      case 'const':
        summary = `must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}, got ${describe(e.data)}`;
        break;
      case 'pattern': {
        if (errors[i + 1]?.keyword === 'propertyNames' && errors[i + 1]?.instancePath === e.instancePath) return;
        const friendly = parentSchema['x-pattern-message'];
        summary = `${describe(e.data)} ${typeof friendly === 'string' ? friendly : (e.message ?? 'is invalid')}`;
        break;
      }
      default:
        summary = e.message ?? `fails ${e.keyword}`;
    }
    const path = fromPointer(pointer);
    const key = `${pointer}|${summary}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(
      error('config.schema', summary, {
        path,
        location: sources.locate(pointer, preferKey),
        ...(detail ? { detail } : {}),
      }),
    );
  });
  return out;
}

function escapePointer(s: string): string {
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}

function humanType(t: string | string[]): string {
  const list = ([] as string[]).concat(t).map((x) => (x === 'object' ? 'a mapping' : x === 'array' ? 'a list' : x === 'integer' ? 'an integer' : `a ${x}`));
  return list.length > 1 ? `${list.slice(0, -1).join(', ')} or ${list[list.length - 1]}` : list[0]!;
}

/**
 * When a string was expected and YAML read an unquoted word as a boolean, number or null
 * (`using: true`, `value: 1.10`, `default: null`): how to keep it as text.
 */
function quotingHint(wanted: readonly string[], v: unknown): string | undefined {
  if (!wanted.includes('string') || !(v === null || typeof v === 'boolean' || typeof v === 'number')) return undefined;
  const text = String(v);
  const what = v === null ? 'null' : typeof v === 'boolean' ? 'a boolean' : 'a number';
  return `YAML reads an unquoted ${text} as ${what}. Quote it to mean the text: "${text}".`;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `'${v.length > 60 ? `${v.slice(0, 57)}...` : v}'`;
  return `${typeof v} ${String(v)}`;
}

/** Re-exported: "did you mean" suggestions (diag/suggest.ts). */
export { closest };
