/**
 * Builds the access model from resources — the configuration's desired resources, the live ones
 * of a refresh, or the live state as a plan will leave it — all seen as {@link ResourceView}s in
 * the engine's canonical attribute shapes (resources/*.ts).
 */
import { parseAddress } from '../model/address.js';
import type { SourceLocation } from '../diag/index.js';
import type { ResourceKind } from '../model/resource.js';
import { TABLE_PRIVILEGES, type TableAttrs, type TableMeta } from '../resources/table-spec.js';
import { DEFAULT_TENANT_SLUG } from '../resources/tenant.js';
import { computeTable, type ComputedTable, type PolicyInput, type TableInput } from './compute.js';
import { API_ROLES, INTERNAL_ROLES, roleReach, type KeyInput } from './reach.js';
import type { AccessModel, Command, TenantAccess } from './types.js';

/** A resource in canonical attribute form, whichever side it comes from. */
export interface ResourceView {
  address: string;
  kind: ResourceKind;
  tenant?: string;
  attrs: Record<string, unknown>;
  meta?: Record<string, unknown>;
  external?: boolean;
  /** Where it is declared (desired side). */
  source?: SourceLocation;
  /** The table's privileges are the server's creation defaults plus what is declared (not read). */
  predicted?: boolean;
}

/** The model with what each cell was computed from, by tenant and table address. */
export interface ComputedModel {
  model: AccessModel;
  tables: Map<string, ComputedTable>;
  /** Tenant → role → commands some key limits it to (for reach deltas), and sign-up state. */
  keys: KeyInput[];
  signup: { open: boolean; source: string };
}

/** What the model cannot see; printed with every matrix (docs/access.md "Limits"). */
export const MODEL_LIMITS: readonly string[] = [
  'privileges held through role membership, and column privileges',
  'what functions called in policies do (they are taken as written)',
  'views, RPC functions, storage and realtime (each has its own access path)',
  "direct database connections (other roles are shown, but Fluxbase's API only uses anon, authenticated, service_role and tenant_service)",
];

/** The extra limit of a model computed from the configuration alone. */
export const CONFIG_LIMIT = "privileges as the server gives them to a new table plus the declared grants (`--live` reads the instance's)";

/**
 * Privileges a table gets when the tool creates it: SELECT, INSERT, UPDATE, DELETE for
 * service_role (internal/api/ddl_handler.go:740; the tool's migrations grant the same,
 * sql/ddl.ts serviceRoleGrant) and the bootstrap's default privileges of its schema
 * (internal/database/bootstrap/bootstrap.sql:204-294): `authenticated` may read and write new
 * tables in auth, app, storage, functions, realtime and mcp and read those in jobs and ai;
 * tenant_migration_role gets everything in public. Nothing for `anon`.
 */
export function creationGrants(schema: string): Record<string, string[]> {
  const all = [...TABLE_PRIVILEGES];
  const grants: Record<string, string[]> = { service_role: all };
  if (['auth', 'app', 'storage', 'functions', 'realtime', 'mcp'].includes(schema)) grants.authenticated = all;
  if (['jobs', 'ai'].includes(schema)) grants.authenticated = ['SELECT'];
  if (schema === 'public') grants.tenant_migration_role = all;
  return grants;
}

function tableParts(address: string): { tenant: string; schema: string; table: string } {
  const [tenant, schema, table] = parseAddress(address)!.segments as [string, string, string];
  return { tenant, schema, table };
}

function policyInput(v: ResourceView): { table: string; policy: PolicyInput } {
  const [tenant, schema, table, ...rest] = parseAddress(v.address)!.segments as string[];
  const a = v.attrs as { command?: string; permissive?: boolean; roles?: string[]; using?: string | null; with_check?: string | null };
  return {
    table: `table.${tenant}.${schema}.${table}`,
    policy: {
      name: rest.join('.'),
      address: v.address,
      command: (a.command ?? 'ALL') as PolicyInput['command'],
      permissive: a.permissive ?? true,
      roles: a.roles && a.roles.length > 0 ? a.roles : ['public'],
      using: a.using ?? null,
      with_check: a.with_check ?? null,
    },
  };
}

function tableInput(v: ResourceView, policies: PolicyInput[], isDefault: (slug: string) => boolean): TableInput {
  const { tenant, schema, table } = tableParts(v.address);
  const a = v.attrs as TableAttrs;
  const meta = (v.meta ?? {}) as Partial<TableMeta>;
  let grants: Record<string, readonly string[]> | undefined = a.grants;
  if (v.predicted) grants = v.external && !a.grants ? undefined : { ...creationGrants(schema), ...(a.grants ?? {}) };
  return {
    tenant,
    schema,
    name: table,
    address: v.address,
    rls: a.rls_enabled ?? false,
    forced: meta.rlsForced ?? false,
    ...(meta.owner ? { owner: meta.owner } : {}),
    ...(grants ? { grants } : {}),
    ...(a.columns ? { columns: Object.keys(a.columns) } : {}),
    policies: policies.sort((x, y) => (x.name < y.name ? -1 : 1)),
    ...(v.source ? { declared: true } : {}),
    ...(isDefault(tenant) ? {} : { otherTenant: true }),
  };
}

function keyInput(v: ResourceView): KeyInput | undefined {
  if (v.kind !== 'client_key' && v.kind !== 'service_key') return undefined;
  const a = v.attrs as { scopes?: string[]; key_type?: string; enabled?: boolean; revoked?: boolean; expires_at?: string | null };
  const segments = parseAddress(v.address)!.segments;
  const expired = typeof a.expires_at === 'string' && Date.parse(a.expires_at) < Date.now();
  return {
    address: v.address,
    kind: v.kind,
    name: segments[segments.length - 1]!,
    ...(v.kind === 'service_key' ? { tenant: segments[0]!, keyType: a.key_type ?? 'service' } : {}),
    scopes: a.scopes ?? [],
    active: a.enabled !== false && a.revoked !== true && !expired,
  };
}

/** `app.auth.signup_enabled` as the resources set it (system setting, else app settings, else the server's default true). */
function signupState(views: readonly ResourceView[]): { open: boolean; source: string } {
  const system = views.find((v) => v.kind === 'system_setting' && v.address === 'system_setting["app.auth.signup_enabled"]');
  if (system && typeof system.attrs.value === 'boolean') return { open: system.attrs.value, source: 'app.auth.signup_enabled' };
  const app = views.find((v) => v.kind === 'app_settings');
  const flag = (app?.attrs.authentication as { enable_signup?: unknown } | undefined)?.enable_signup;
  if (typeof flag === 'boolean') return { open: flag, source: 'settings.app.authentication.enable_signup' };
  return { open: true, source: "the server's default for app.auth.signup_enabled" };
}

/** Input of {@link buildModel}. */
export interface BuildModelRequest {
  views: readonly ResourceView[];
  source: AccessModel['source'];
  /** Which tenants are the default tenant (default: the slug `default`). */
  isDefaultTenant?: (slug: string) => boolean;
  /** Only these tenants (default: every tenant with a resource). */
  tenants?: ReadonlySet<string>;
}

/** Computes the whole model. Requires loadSqlParser(). */
export function buildModel(req: BuildModelRequest): ComputedModel {
  const isDefault = req.isDefaultTenant ?? ((s: string) => s === DEFAULT_TENANT_SLUG);
  const policiesByTable = new Map<string, PolicyInput[]>();
  for (const v of req.views) {
    if (v.kind !== 'policy') continue;
    const { table, policy } = policyInput(v);
    policiesByTable.set(table, [...(policiesByTable.get(table) ?? []), policy]);
  }
  const inputs = req.views.filter((v) => v.kind === 'table').map((v) => tableInput(v, policiesByTable.get(v.address) ?? [], isDefault));
  const keys = req.views.map(keyInput).filter((k): k is KeyInput => k !== undefined);
  const signup = signupState(req.views);
  const slugs = new Set<string>();
  for (const v of req.views) {
    if (v.kind === 'tenant') slugs.add(parseAddress(v.address)!.segments[0]!);
    else if (v.tenant) slugs.add(v.tenant);
  }
  const tables = new Map<string, ComputedTable>();
  const tenants: TenantAccess[] = [];
  for (const slug of [...slugs].sort()) {
    if (req.tenants && !req.tenants.has(slug)) continue;
    const own = inputs.filter((t) => t.tenant === slug).sort((a, b) => (a.address < b.address ? -1 : 1));
    const roles = tenantRoles(own, isDefault(slug));
    const computed = own.map((t) => computeTable(t, roles));
    for (const c of computed) tables.set(c.input.address, c);
    tenants.push({
      tenant: slug,
      tables: computed.map((c) => c.access),
      reach: roleReach({ tenant: slug, defaultTenant: isDefault(slug), roles, keys, signup }),
    });
  }
  const limits = req.source === 'config' ? [CONFIG_LIMIT, ...MODEL_LIMITS] : [...MODEL_LIMITS];
  return { model: { source: req.source, tenants, limits }, tables, keys, signup };
}

/** The API's roles (tenant_service only outside the default tenant) and every role a policy or a declared grant names. */
function tenantRoles(tables: readonly TableInput[], defaultTenant: boolean): string[] {
  const roles = API_ROLES.filter((r) => r !== 'tenant_service' || !defaultTenant);
  const named = new Set<string>();
  for (const t of tables) {
    for (const p of t.policies) for (const r of p.roles) named.add(r);
    // Live tables list every role's grants: only a declaration's roles are of interest there.
    if (t.declared) for (const [r, list] of Object.entries(t.grants ?? {})) if (list.length > 0) named.add(r);
    if (t.owner) named.delete(t.owner);
  }
  for (const r of [...named].sort()) if (r !== 'public' && !INTERNAL_ROLES.has(r) && !roles.includes(r) && !ownerLike(r, tables)) roles.push(r);
  return roles;
}

/** A role that owns some table here (an administrative role, not a caller). */
function ownerLike(role: string, tables: readonly TableInput[]): boolean {
  return tables.some((t) => t.owner === role);
}

/** Whether a role reaches any row with one of `commands` in a tenant (only the tables in `only`, when given). */
export function reachesRows(computed: ComputedModel, tenant: string, role: string, commands: readonly Command[], only?: ReadonlySet<string>): boolean {
  for (const t of computed.tables.values()) {
    if (t.input.tenant !== tenant || (only && !only.has(t.input.address))) continue;
    const cells = t.cells[role];
    if (cells && commands.some((c) => cells[c].access.level !== 'none')) return true;
  }
  return false;
}
