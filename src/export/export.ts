/**
 * `fluxbase export`: read every resource kind of a live instance (or the selected tenants and
 * kinds) and write the configuration that declares it. Each handler's toSpec turns a live
 * resource into its declaration (resources/types.ts); this module reads, places the fragments
 * (document.ts), names the environment variables of write-only values (env-names.ts), and checks
 * its own output with the project's loader and validator and against the live state it came from:
 * a fragment the validator rejects is left out with a warning, and a declaration that would not
 * reproduce the live resource is reported (`export.mismatch`), so a clean first plan is checked
 * here rather than hoped for. Makes only reading calls.
 */
import type { FluxbaseClient } from '../client/http.js';
import { apiDiagnostic } from '../client/errors.js';
import { error, hasErrors, warning, type Diagnostic } from '../diag/index.js';
import { updateChange } from '../engine/change.js';
import { buildDesired, type DesiredState } from '../engine/graph.js';
import { loadConfigText } from '../engine/load.js';
import { refresh, type LiveState } from '../engine/refresh.js';
import { validateDocument } from '../engine/validate.js';
import { parseAddress } from '../model/address.js';
import { RESOURCE_KINDS, type LiveResource, type ResourceKind } from '../model/resource.js';
import { handlerFor } from '../resources/index.js';
import type { SpecFragment } from '../resources/types.js';
import { INTERNAL_SCHEMAS } from '../sql/identifiers.js';
import { loadSqlParser } from '../sql/parser.js';
import { buildTree, renderDocument, type Placement } from './document.js';
import { allocateEnvNames, type ExportVariable } from './env-names.js';

/** Input of {@link exportInstance}. */
export interface ExportRequest {
  client: FluxbaseClient;
  /** Tenant slugs to export (default: every live tenant). Instance-wide kinds are always read. */
  tenants?: readonly string[];
  /** Kinds to export (default: all); the kinds they live in are added (policy → table → schema → tenant). */
  kinds?: readonly ResourceKind[];
  /** Also declare Fluxbase's own tables and built-in objects at their defaults. */
  includeInternal?: boolean;
  /** The `$schema` reference of the `yaml-language-server` modeline. */
  schemaRef: string;
}

/** What an export produced. */
export interface ExportResult {
  /** The configuration (undefined when the export failed). */
  yaml?: string;
  /** The environment variables the configuration references for write-only values, by name. */
  variables: ExportVariable[];
  /** The live state that was read. */
  live: LiveState;
  /** The exported configuration as loaded (write-only values are placeholders, in memory only). */
  desired: DesiredState;
  /** Kinds that were exported (the request's, with their containers). */
  kinds: ReadonlySet<ResourceKind>;
  diagnostics: Diagnostic[];
}

/** The kind a resource of each kind is declared inside. */
const CONTAINER: Partial<Record<ResourceKind, ResourceKind>> = {
  policy: 'table',
  table: 'schema',
  schema: 'tenant',
  webhook: 'tenant',
  service_key: 'tenant',
  custom_setting: 'tenant',
};

/** Kinds with the kinds they are declared inside. */
export function withContainers(kinds: readonly ResourceKind[]): Set<ResourceKind> {
  const out = new Set<ResourceKind>();
  for (const kind of kinds) {
    for (let k: ResourceKind | undefined = kind; k && !out.has(k); k = CONTAINER[k]) out.add(k);
  }
  return out;
}

/** Internal schemas users may keep tables in (the catalogs themselves are never read). */
const EXPORT_SCHEMAS: ReadonlySet<string> = new Set([...INTERNAL_SCHEMAS].filter((s) => !['information_schema', 'pg_catalog', 'pg_toast'].includes(s)));

/** A placeholder for write-only values while the output is checked; never written anywhere. */
const PLACEHOLDER = 'fluxbase-export-check';

interface Exported {
  live: LiveResource;
  fragment: SpecFragment;
}

/** Reads the instance and builds the configuration (see module doc). */
export async function exportInstance(req: ExportRequest): Promise<ExportResult> {
  const kinds = withContainers(req.kinds ?? RESOURCE_KINDS);
  const empty: DesiredState = new Map();
  const diagnostics: Diagnostic[] = [];
  const fail = (live?: LiveState): ExportResult => ({ variables: [], live: live ?? { resources: new Map(), tenants: new Map(), scanned: new Set(), diagnostics: [] }, desired: empty, kinds, diagnostics });
  let slugs: string[];
  try {
    const tenants = await handlerFor('tenant').list({ client: req.client, schemas: new Set() });
    const all = tenants.map((t) => parseAddress(t.address)!.segments[0]!);
    const unknown = (req.tenants ?? []).filter((s) => !all.includes(s));
    for (const s of unknown) diagnostics.push(error('cli.usage', `no live tenant has the slug ${s}`, { detail: `Live tenants: ${all.sort().join(', ')}.` }));
    if (unknown.length > 0) return fail();
    slugs = [...(req.tenants ?? all)];
  } catch (e) {
    diagnostics.push(apiDiagnostic(e));
    return fail();
  }
  const live = await refresh({ client: req.client, desired: empty, state: undefined, kinds, tenants: new Set(slugs), schemas: EXPORT_SCHEMAS });
  diagnostics.push(...live.diagnostics);
  if (hasErrors(diagnostics)) return fail(live);
  const built = await exportLive({ live, tenants: slugs, kinds, includeInternal: req.includeInternal, schemaRef: req.schemaRef });
  return { ...built, diagnostics: [...diagnostics, ...built.diagnostics] };
}

/**
 * The configuration for a live state that was already read (the part of {@link exportInstance}
 * that makes no API call): toSpec for every live resource of the tenants and kinds, placement,
 * rendering and the checks described in the module doc.
 */
export async function exportLive(req: {
  live: LiveState;
  tenants: readonly string[];
  kinds: ReadonlySet<ResourceKind>;
  includeInternal?: boolean;
  schemaRef: string;
}): Promise<ExportResult> {
  const { live, kinds } = req;
  const slugs = req.tenants;
  const diagnostics: Diagnostic[] = [];
  const fail = (): ExportResult => ({ variables: [], live, desired: new Map(), kinds, diagnostics });
  await loadSqlParser();

  const inScope = (r: LiveResource) => {
    const slug = r.kind === 'tenant' ? parseAddress(r.address)!.segments[0]! : r.tenant;
    return slug === undefined || slugs.includes(slug);
  };
  const selected = [...live.resources.values()]
    .filter((r) => kinds.has(r.kind) && inScope(r))
    .sort((a, b) => RESOURCE_KINDS.indexOf(a.kind) - RESOURCE_KINDS.indexOf(b.kind) || (a.address < b.address ? -1 : 1));
  const children = new Map<string, LiveResource[]>();
  for (const r of selected) if (r.parent) children.set(r.parent, [...(children.get(r.parent) ?? []), r]);
  let exported: Exported[] = [];
  for (const r of selected) {
    const handler = handlerFor(r.kind);
    if (!handler.toSpec) {
      diagnostics.push(notExported(r.address, `fluxbase export cannot write ${r.kind.replace(/_/g, ' ')}s yet`));
      continue;
    }
    const fragment = handler.toSpec({ live: r, children: children.get(r.address) ?? [], includeInternal: req.includeInternal ?? false });
    if (!fragment) continue;
    for (const note of fragment.notes ?? []) diagnostics.push(notExported(r.address, note));
    exported.push({ live: r, fragment });
  }

  // Render, load and validate; leave out what the validator rejects, until the output is valid.
  for (let attempt = 0; ; attempt++) {
    const variables = allocateEnvNames(exported.flatMap((e) => (e.fragment.spec ? (e.fragment.writeOnly ?? []).map((w) => ({ address: e.live.address, attribute: w.attribute })) : [])));
    const yaml = render(exported, variables, diagnostics, req.schemaRef);
    const env = Object.fromEntries(variables.map((v) => [v.name, PLACEHOLDER]));
    const checked = await validateDocument(loadConfigText(yaml, 'fluxbase.config.yaml', { env }));
    const errors = checked.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length === 0 && checked.config) {
      diagnostics.push(...checked.diagnostics);
      const desired = buildDesired(checked.config);
      diagnostics.push(...mismatches(exported, desired));
      return { yaml, variables, live, desired, kinds, diagnostics };
    }
    const rejected = new Set<Exported>();
    for (const d of errors) {
      const owner = ownerOf(exported, d.path);
      if (!owner) {
        diagnostics.push(error('export.not-exported', `the exported configuration is invalid: ${d.summary}`, { detail: 'This is a bug in fluxbase export; please report it with the live object named here.', path: d.path }));
        return fail();
      }
      if (rejected.has(owner)) continue;
      const field = (d.path ?? []).slice(owner.fragment.path.length).map(String);
      const trimmed = field.length > 0 && !underExactMap(owner.live.kind, field) ? withoutField(owner.fragment.spec!, field) : undefined;
      if (trimmed) {
        // Only this field is left out: the rest of the declaration still manages what it says.
        owner.fragment = { ...owner.fragment, spec: trimmed };
        diagnostics.push(notExported(owner.live.address, `${field.join('.')} (the configuration cannot declare its live value: ${d.summary}); the rest is declared`));
      } else {
        rejected.add(owner);
        diagnostics.push(notExported(owner.live.address, `the configuration cannot declare ${field.length > 0 ? field.join('.') : 'it'}: ${d.summary}`));
      }
    }
    exported = exported.filter((e) => !rejected.has(e));
    if (attempt > 50) return fail();
  }
}

/**
 * Whether a field lies in a map the plan treats as complete (ResourceHandler rules `exact`, e.g.
 * a table's columns): leaving one entry out would plan its removal, so the whole declaration
 * is left out instead.
 */
function underExactMap(kind: ResourceKind, field: readonly string[]): boolean {
  return handlerFor(kind).rules.some((r) => r.exact && r.path.split('.').every((seg, i) => i < field.length && (seg === '*' || seg === field[i])));
}

/** A copy of `spec` without the value at `field`; undefined when nothing declarable would be left. */
function withoutField(spec: Record<string, unknown>, field: readonly string[]): Record<string, unknown> | undefined {
  const copy = structuredClone(spec);
  let parent: unknown = copy;
  for (const seg of field.slice(0, -1)) parent = (parent as Record<string, unknown> | undefined)?.[seg];
  if (!parent || typeof parent !== 'object' || Array.isArray(parent) || !(field[field.length - 1]! in parent)) return undefined;
  delete (parent as Record<string, unknown>)[field[field.length - 1]!];
  return Object.keys(copy).length > 0 ? copy : undefined;
}

function notExported(address: string, why: string): Diagnostic {
  return warning('export.not-exported', `not exported: ${why}`, { address });
}

/** The exported resource whose declaration holds a config path (the deepest one). */
function ownerOf(exported: readonly Exported[], path: readonly (string | number)[] | undefined): Exported | undefined {
  if (!path) return undefined;
  let best: Exported | undefined;
  for (const e of exported) {
    const p = e.fragment.path;
    if (e.fragment.spec && p.length <= path.length && p.every((s, i) => s === String(path[i])) && (!best || p.length > best.fragment.path.length)) best = e;
  }
  return best;
}

/**
 * Escapes exported text so loading gives it back unchanged: the loader turns `$${` into `${` and
 * substitutes `${env:…}`, so each `${` that is preceded by `$` or starts `${env:` gets one more `$`.
 */
export function escapeRefs(v: unknown): unknown {
  if (typeof v === 'string') return v.replace(/(?<=\$)\$\{|\$\{(?=env:)/g, '$$$${');
  if (Array.isArray(v)) return v.map(escapeRefs);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, escapeRefs(x)]));
  return v;
}

function render(exported: readonly Exported[], variables: readonly ExportVariable[], diagnostics: readonly Diagnostic[], schemaRef: string): string {
  const nameOf = new Map(variables.map((v) => [`${v.address}#${v.attribute}`, v.name]));
  const placements: Placement[] = [];
  const comments: { path: string[]; text: string }[] = [];
  for (const { live, fragment } of exported) {
    if (!fragment.spec) {
      placements.push({ path: fragment.path });
      continue;
    }
    const spec = escapeRefs(fragment.spec) as Record<string, unknown>;
    for (const w of fragment.writeOnly ?? []) setIn(spec, w.path, `\${env:${nameOf.get(`${live.address}#${w.attribute}`)!}}`);
    placements.push({ path: fragment.path, spec });
    for (const c of fragment.comments ?? []) comments.push({ path: [...fragment.path, ...c.path], text: c.text });
  }
  const header = ['yaml-language-server: $schema=' + schemaRef, '', 'Exported from a live Fluxbase instance by `fluxbase export`.'];
  if (variables.length > 0) {
    const width = Math.max(...variables.map((v) => v.name.length));
    header.push(
      '',
      'Write-only values cannot be read back, so they are declared as environment variables. Set each',
      'one to the value the server holds before `fluxbase plan` (docs/export.md: what apply sends):',
      ...variables.map((v) => `  ${v.name.padEnd(width)}  ${v.address} ${v.attribute}`),
    );
  }
  const left = diagnostics.filter((d) => d.code === 'export.not-exported' && d.address);
  if (left.length > 0) {
    header.push('', 'Left out (the configuration cannot declare them):', ...left.map((d) => `  ${d.address}: ${d.summary.replace(/^not exported: /, '')}`).sort());
  }
  return renderDocument({ tree: buildTree(placements), comments, roots: placements.filter((p) => p.spec).map((p) => p.path), header });
}

function setIn(obj: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = obj;
  for (const key of path.slice(0, -1)) {
    if (node[key] === null || typeof node[key] !== 'object') node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

/** Warnings for exported declarations that do not reproduce their live resource. */
function mismatches(exported: readonly Exported[], desired: DesiredState): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const { live, fragment } of exported) {
    const d = desired.get(live.address);
    if (!d || !fragment.spec) continue;
    const attributes = updateChange(d, live, []).attributes;
    if (attributes.length === 0) continue;
    out.push(
      warning('export.mismatch', `the declaration does not reproduce the live value of ${attributes.map((a) => a.path.join('.')).join(', ')}`, {
        address: live.address,
        detail: 'The first plan will show this difference. Edit the declaration, or report it as a bug in fluxbase export.',
      }),
    );
  }
  return out;
}
