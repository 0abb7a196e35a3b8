/**
 * Tables (shared/fluxbase-api auth-tenants §5, §6 RLS toggle, §8 realtime). The plan for a table
 * is a list of explicit steps — DDL endpoint calls where the API can express the change, one
 * migration (shown as SQL) for everything else, the RLS toggle and realtime calls — and apply
 * executes exactly those steps. See table-spec.ts for the canonical attributes.
 */
import { formatAddress } from '../model/address.js';
import type { AttributeChange, Hazard, PlannedStep, ResourceChange } from '../model/plan.js';
import type { DesiredResource, LiveResource } from '../model/resource.js';
import { hazard, preventDestroy, sourceAt, sourceOf, sourcesOf } from './common.js';
import type { SourceIndex } from '../engine/source-index.js';
import type { Table } from '../model/config.generated.js';
import { runMigration } from './migrations.js';
import { isInternalSchema, schemaAddress } from './schema.js';
import { readCatalog } from './table-catalog.js';
import { planTableSteps } from './table-steps.js';
import { renameTableColumns } from './table-rename.js';
import { tablePreflight } from './table-preflight.js';
import { tableToSpec } from './table-export.js';
import { desiredTable, liveTable, type RealtimeRow, type TableAttrs, type TableDesiredMeta, type TableMeta } from './table-spec.js';
import { tableLimitDiagnostics } from './tenant-limits.js';
import { DEFAULT_TENANT_SLUG, tenantAddress } from './tenant.js';
import type { ApplyRequest, ApplyResult, DesiredRequest, ListRequest, PlanRequest, PlanResult, ReferencesRequest, ResourceHandler } from './types.js';
import { error, warning, type Diagnostic } from '../diag/index.js';
import { canonicalType } from '../sql/types.js';
import type { ApiRequest } from '../client/http.js';

/** `table.<tenant>.<schema>.<table>` */
export function tableAddress(tenant: string, schema: string, table: string): string {
  return formatAddress('table', [tenant, schema, table]);
}

export const tableHandler: ResourceHandler = {
  kind: 'table',
  scope: 'tenant',
  rules: [
    { path: 'columns', exact: true },
    { path: 'columns.*.type', compare: 'type' },
    { path: 'columns.*.default', compare: 'sql' },
    // A live foreign key PostgreSQL has not validated carries `not_valid: true` (table-spec.ts).
    { path: 'columns.*.references', exact: true },
    { path: 'indexes', exact: true },
    { path: 'checks', exact: true },
    { path: 'checks.*', compare: 'sql' },
    { path: 'grants.*', compare: 'set' },
    { path: 'realtime.events', compare: 'set' },
    { path: 'realtime.exclude', compare: 'set' },
  ],

  desired({ config, sources, preventDestroyDefault }: DesiredRequest): DesiredResource[] {
    const out: DesiredResource[] = [];
    for (const [slug, tenant] of Object.entries(config.tenants ?? {})) {
      for (const [schema, s] of Object.entries(tenant?.schemas ?? {})) {
        for (const [name, table] of Object.entries(s?.tables ?? {})) {
          const path = ['tenants', slug, 'schemas', schema, 'tables', name];
          const attrs = desiredTable(schema, table!);
          const refs = Object.values(attrs.columns ?? {})
            .map((c) => c.references?.table)
            .filter((t): t is string => t !== undefined && t !== `${schema}.${name}`)
            .map((t) => tableAddress(slug, t.split('.')[0]!, t.split('.')[1]!));
          out.push({
            address: tableAddress(slug, schema, name),
            kind: 'table',
            tenant: slug,
            attrs: attrs as Record<string, unknown>,
            writeOnly: {},
            dependsOn: [tenantAddress(slug), schemaAddress(slug, schema), ...new Set(refs)],
            preventDestroy: preventDestroy(table?.lifecycle, preventDestroyDefault),
            external: table?.external ?? false,
            source: sourceOf(sources, path),
            sources: declarationSources(table!, path, sources),
            ...(table?.renamed_from ? { renamedFrom: tableAddress(slug, schema, table.renamed_from) } : {}),
            path,
            meta: desiredMeta(schema, name, table!) as unknown as Record<string, unknown>,
          });
        }
      }
    }
    return out;
  },

  /**
   * One catalog query through POST /api/v1/admin/sql/execute and one
   * GET /api/v1/admin/realtime/tables per tenant.
   */
  async list({ client, tenant, schemas }: ListRequest): Promise<LiveResource[]> {
    const [tables, realtime] = await Promise.all([
      readCatalog(client, tenant!.id, schemas),
      client.request<{ tables: RealtimeRow[] | null }>({
        method: 'GET',
        route: '/api/v1/admin/realtime/tables',
        tenantId: tenant!.id,
      }),
    ]);
    const rt = new Map((realtime.body?.tables ?? []).map((r) => [`${r.schema}.${r.table}`, r]));
    return tables.map((t) => {
      const { attrs, meta } = liveTable(t, rt.get(`${t.schema}.${t.name}`));
      return {
        address: tableAddress(tenant!.slug, t.schema, t.name),
        kind: 'table',
        tenant: tenant!.slug,
        id: `${t.schema}.${t.name}`,
        attrs: attrs as Record<string, unknown>,
        parent: schemaAddress(tenant!.slug, t.schema),
        hidden: isInternalSchema(t.schema),
        meta: meta as unknown as Record<string, unknown>,
      };
    });
  },

  /** See table-export.ts. */
  toSpec: tableToSpec,

  /** Column renames (`renamed_from:` on columns): see table-rename.ts. */
  renameInside: renameTableColumns,

  /** Types exist; NOT NULL columns are not added to tables with data: see table-preflight.ts. */
  preflight: tablePreflight,

  /** Each foreign key's table and column exist once the plan is applied (declared, or live and kept). */
  references({ desired, after }: ReferencesRequest): Diagnostic[] {
    const out: Diagnostic[] = [];
    for (const [column, c] of Object.entries((desired.attrs as TableAttrs).columns ?? {})) {
      if (!c.references) continue;
      const [schema, table] = c.references.table.split('.') as [string, string];
      const target = after(tableAddress(desired.tenant!, schema, table));
      const where = { location: sourceAt(desired, `columns.${column}.references`, `columns.${column}`), path: [...desired.path, 'columns', column, 'references'] };
      if (!target) {
        out.push(
          error('plan.reference', `column ${column} references table ${c.references.table}, which will not exist`, {
            ...where,
            detail: `No table ${c.references.table} is declared in this tenant, and none is live (or this plan drops it). Declare it, or correct references.table.`,
          }),
        );
        continue;
      }
      const columns = target.declared && !target.declared.external ? (target.declared.attrs as TableAttrs).columns : (target.live?.attrs as TableAttrs | undefined)?.columns;
      if (columns && !columns[c.references.column]) {
        out.push(error('plan.reference', `column ${column} references ${c.references.table}(${c.references.column}), which has no such column`, { ...where, detail: `Its columns: ${Object.keys(columns).join(', ')}.` }));
      }
    }
    // A `using:` left behind after its type change would convert again at the next one.
    const live = after(desired.address)?.live?.attrs as TableAttrs | undefined;
    for (const [column, using] of Object.entries(((desired.meta ?? {}) as Partial<TableDesiredMeta>).using ?? {})) {
      const had = live?.columns?.[column];
      const want = (desired.attrs as TableAttrs).columns?.[column];
      if (!had || !want || (canonicalType(had.type) ?? had.type) !== (canonicalType(want.type) ?? want.type)) continue;
      out.push(
        warning('plan.type-change', `using: of column ${column} has nothing to convert: the column already has type ${had.type}`, {
          location: sourceAt(desired, `columns.${column}.using`, `columns.${column}`),
          path: [...desired.path, 'columns', column, 'using'],
          detail: `Remove \`using: ${JSON.stringify(using)}\`: it is applied whenever the type changes, so a later type change would convert every value with it again.`,
        }),
      );
    }
    return out;
  },

  plan(req: PlanRequest): PlanResult {
    const { change, desired } = req;
    if (desired?.external && change.action === 'create') {
      return {
        diagnostics: [
          error('plan.not-supported', 'external table does not exist', {
            address: change.address,
            location: desired.source,
            detail: 'An external table must already exist: create it first, or remove `external: true` so this configuration creates it.',
          }),
        ],
      };
    }
    const reasons: string[] = [];
    const { steps, hazards, diagnostics } = planTableSteps(req, reasons);
    const sql = steps.filter((s) => s.op === 'migration').flatMap((s) => s.sql as string[]);
    const [, tenant, schema] = change.address.split('.') as [string, string, string];
    const owner = change.action === 'update' ? (req.live?.meta as TableMeta | undefined)?.owner : undefined;
    diagnostics.push(
      ...tableLimitDiagnostics({ address: change.address, tenant, schema, steps, owner, desired, migrationReasons: reasons }),
      ...(sql.length > 0 ? migrationIdentity(tenant, req.identities, change.address) : []),
    );
    return { steps, sql: sql.length > 0 ? sql : undefined, hazards: [...tableHazards(change, steps), ...hazards], diagnostics };
  },

  async create(req: ApplyRequest): Promise<ApplyResult> {
    await runSteps(req);
    return { id: req.change.id };
  },

  async update(req: ApplyRequest): Promise<ApplyResult> {
    await runSteps(req);
    return { id: req.change.id };
  },

  async delete(req: ApplyRequest): Promise<void> {
    await runSteps(req);
  },
};

/**
 * A tenant with its own database can only run migrations through a service-role JWT: the server
 * runs a dashboard admin's migrations on the main database even with X-FB-Tenant. Caught here so
 * the plan fails before anything is applied.
 */
export function migrationIdentity(tenant: string, identities: { serviceRole: boolean }, address: string): Diagnostic[] {
  if (tenant === DEFAULT_TENANT_SLUG || identities.serviceRole) return [];
  return [
    error('api.capability', 'this change runs SQL through the migrations API, which needs a service-role JWT for this tenant', {
      address,
      detail: `The server runs a dashboard admin's migrations on the main database even with X-FB-Tenant, so for tenant ${tenant} the tool needs a service-role JWT in FLUXBASE_TOKEN (FLUXBASE_ADMIN_EMAIL/PASSWORD can stay set for custom settings).`,
    }),
  ];
}

function tableHazards(change: ResourceChange, steps: PlannedStep[]): Hazard[] {
  const out: Hazard[] = [];
  const name = change.address.split('.').slice(2).join('.');
  if (steps.some((s) => s.op === 'ddl_drop_table')) {
    out.push(hazard('DELETES_DATA', `Drops table ${name} and every row in it.`));
  }
  for (const a of change.attributes) {
    if (a.path[0] === 'columns' && a.path.length === 2 && a.after === undefined) {
      out.push(hazard('DELETES_DATA', `Drops column ${a.path[1]} of ${name} and its data.`));
    }
    if (a.path[0] === 'rls_enabled' && a.before === true && a.after === false) {
      out.push(hazard('AUTHZ_CHANGE', `Disables row-level security on ${name}: every role with table privileges sees every row.`));
      out.push(hazard('WEAKENS_SECURITY', `Turns row-level security off on ${name}: its policies stop applying, and anon and authenticated reach every row their table privileges allow.`));
    }
  }
  return out;
}

/**
 * The API call of each table step (all but `migration`): method, route, body and the statuses
 * that count as done (a DELETE answered 404 means it is already gone).
 */
const STEP_REQUESTS: Record<string, (t: { schema: string; table: string }, step: PlannedStep) => Omit<ApiRequest, 'tenantId'>> = {
  ddl_create_table: (_t, step) => ({ method: 'POST', route: '/api/v1/admin/ddl/tables', body: step.body, expect: [201] }),
  ddl_add_column: (t, step) => ({ method: 'POST', route: '/api/v1/admin/tables/:schema/:table/columns', params: t, body: step.body, expect: [201] }),
  ddl_drop_column: (t, step) => ({
    method: 'DELETE',
    route: '/api/v1/admin/tables/:schema/:table/columns/:column',
    params: { ...t, column: step.column as string },
    expect: [200, 404],
  }),
  ddl_drop_table: (t) => ({ method: 'DELETE', route: '/api/v1/admin/ddl/tables/:schema/:table', params: t, expect: [200, 404] }),
  // PATCH /api/v1/admin/tables/:schema/:table {"newName"} (no /ddl variant; shared/fluxbase-api §5.2).
  ddl_rename_table: (t, step) => ({ method: 'PATCH', route: '/api/v1/admin/tables/:schema/:table', params: { schema: t.schema, table: step.from as string }, body: { newName: t.table }, expect: [200] }),
  rls_toggle: (t, step) => ({ method: 'POST', route: '/api/v1/admin/tables/:schema/:table/rls/toggle', params: t, body: { enabled: step.enabled }, expect: [200] }),
  realtime_enable: (t, step) => ({
    method: 'POST',
    route: '/api/v1/admin/realtime/tables',
    body: { ...t, events: step.events, exclude: step.exclude },
    expect: [201],
  }),
  realtime_update: (t, step) => ({
    method: 'PATCH',
    route: '/api/v1/admin/realtime/tables/:schema/:table',
    params: t,
    body: { events: step.events, exclude: step.exclude },
    expect: [200],
  }),
  realtime_disable: (t, step) => ({
    method: 'DELETE',
    route: '/api/v1/admin/realtime/tables/:schema/:table',
    params: { schema: t.schema, table: (step.table as string | undefined) ?? t.table },
    expect: [200, 404],
  }),
};

/**
 * Executes a change's planned steps in order, recording each finished step (ApplyRequest.progress)
 * so that a run stopped between two steps leaves a record of how far it got.
 */
async function runSteps(req: ApplyRequest): Promise<void> {
  const { client, tenant, change } = req;
  const [schema, table] = tableName(change);
  const steps = change.steps ?? [];
  for (const [i, step] of steps.entries()) {
    if (step.op === 'migration') {
      await runMigration({
        client,
        tenant: tenant!,
        what: `${schema}.${table}`,
        description: `fluxbase-iac: ${change.action} ${change.address}`,
        sql: step.sql as string[],
        now: req.now,
      });
    } else {
      const request = STEP_REQUESTS[step.op];
      if (!request) throw new Error(`unknown table step ${step.op}`);
      await client.request({ ...request({ schema, table }, step), tenantId: tenant!.id });
    }
    if (i < steps.length - 1) await req.progress?.(i + 1, steps.length);
  }
}

function tableName(change: ResourceChange): [string, string] {
  const parts = change.address.split('.');
  return [parts[2]!, parts[3]!];
}

/** Renames and conversions of a table's columns (TableDesiredMeta). */
function desiredMeta(schema: string, name: string, table: Table): TableDesiredMeta {
  const meta: TableDesiredMeta = { schema, name, columnRenames: {}, using: {} };
  for (const [column, c] of Object.entries(table.columns ?? {})) {
    if (c?.renamed_from) meta.columnRenames[column] = c.renamed_from;
    if (c?.using) meta.using[column] = c.using.trim();
  }
  return meta;
}

/** Positions of a table's `renamed_from` and each column's key, type, default, `renamed_from`, `references` and `using`. */
function declarationSources(table: Table, path: string[], sources: SourceIndex) {
  const parts: { at: string; key?: boolean }[] = [{ at: 'renamed_from' }];
  for (const [column, c] of Object.entries(table.columns ?? {})) {
    if (!c) continue;
    parts.push({ at: `columns.${column}`, key: true }, { at: `columns.${column}.type` });
    for (const field of ['default', 'renamed_from', 'references', 'using'] as const) if (c[field] !== undefined) parts.push({ at: `columns.${column}.${field}` });
  }
  return sourcesOf(sources, path, parts);
}

/** Re-exported for tests. */
export type { AttributeChange, PlannedStep, TableAttrs };
