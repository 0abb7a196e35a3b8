/**
 * Database schemas of a tenant (shared/fluxbase-api auth-tenants §5.2): created with
 * POST /api/v1/admin/ddl/schemas. The API has no DROP SCHEMA, so a delete runs
 * `DROP SCHEMA … RESTRICT` as a migration. `public` and Fluxbase's internal schemas (`app`,
 * `auth`, `storage`, …) already exist: declaring one adopts it, and it is never created or
 * dropped; only the tables declared inside it are managed.
 */
import { formatAddress } from '../model/address.js';
import { fingerprint } from '../model/canonical.js';
import type { DesiredResource, LiveResource } from '../model/resource.js';
import { BUILTIN_SCHEMAS, INTERNAL_SCHEMAS, quoteIdent } from '../sql/identifiers.js';
import { hazard, preventDestroy, sourceOf } from './common.js';
import { runMigration, withLockTimeout } from './migrations.js';
import { tenantAddress } from './tenant.js';
import { migrationIdentity } from './table.js';
import { schemaDeleteDiagnostics } from './tenant-limits.js';
import type { ApplyRequest, ApplyResult, DesiredRequest, ListRequest, PlanRequest, PlanResult, ResourceHandler, SpecFragment, ToSpecRequest } from './types.js';

/** `schema.<tenant>.<name>` */
export function schemaAddress(tenant: string, name: string): string {
  return formatAddress('schema', [tenant, name]);
}

/** True for schemas the tool never lists, creates or drops (internal ones and pg_*). */
export function isInternalSchema(name: string): boolean {
  return INTERNAL_SCHEMAS.has(name) || name.startsWith('pg_');
}

export const schemaHandler: ResourceHandler = {
  kind: 'schema',
  scope: 'tenant',
  rules: [],

  desired({ config, sources, preventDestroyDefault }: DesiredRequest): DesiredResource[] {
    const out: DesiredResource[] = [];
    for (const [slug, tenant] of Object.entries(config.tenants ?? {})) {
      for (const [name, schema] of Object.entries(tenant?.schemas ?? {})) {
        const path = ['tenants', slug, 'schemas', name];
        out.push({
          address: schemaAddress(slug, name),
          kind: 'schema',
          tenant: slug,
          attrs: {},
          writeOnly: {},
          dependsOn: [tenantAddress(slug)],
          preventDestroy: preventDestroy(schema?.lifecycle, preventDestroyDefault),
          builtin: BUILTIN_SCHEMAS.has(name) || isInternalSchema(name),
          source: sourceOf(sources, path),
          path,
        });
      }
    }
    return out;
  },

  /** GET /api/v1/admin/ddl/schemas → {"schemas":[{"name","owner"}]}; internal schemas filtered out. */
  async list({ client, tenant, schemas }: ListRequest): Promise<LiveResource[]> {
    const res = await client.request<{ schemas: { name: string }[] | null }>({
      method: 'GET',
      route: '/api/v1/admin/ddl/schemas',
      tenantId: tenant!.id,
    });
    return (res.body?.schemas ?? [])
      .filter((s) => !isInternalSchema(s.name) || schemas.has(s.name))
      .map((s) => ({
        address: schemaAddress(tenant!.slug, s.name),
        kind: 'schema',
        tenant: tenant!.slug,
        id: s.name,
        attrs: {},
        fingerprint: fingerprint({ name: s.name }),
        parent: tenantAddress(tenant!.slug),
        builtin: BUILTIN_SCHEMAS.has(s.name) || isInternalSchema(s.name),
      }));
  },

  /**
   * A schema of its own is declared (`blog: {}`); `public` and Fluxbase's internal schemas only
   * appear when tables are declared in them (or with `includeInternal`).
   */
  toSpec({ live, includeInternal }: ToSpecRequest): SpecFragment {
    const [tenant, name] = [live.tenant!, live.id!];
    // Internal schemas can hold no declaration (F1): never declared, even with includeInternal.
    return { path: ['tenants', tenant, 'schemas', name], spec: (live.builtin && !includeInternal) || isInternalSchema(name) ? undefined : {} };
  },

  plan({ change, identities, lockTimeout }: PlanRequest): PlanResult {
    if (change.action !== 'delete') return {};
    const name = change.address.split('.').pop()!;
    const tenant = change.address.split('.')[1]!;
    return {
      diagnostics: [...schemaDeleteDiagnostics(change.address, tenant, name), ...migrationIdentity(tenant, identities, change.address)],
      sql: withLockTimeout([`DROP SCHEMA ${quoteIdent(name)} RESTRICT`], lockTimeout),
      hazards: [hazard('DELETES_DATA', `Drops schema ${name}; it fails if objects other than the planned deletions remain in it.`)],
    };
  },

  /** POST /api/v1/admin/ddl/schemas → 201; 409 ALREADY_EXISTS means it is already there. */
  async create({ client, desired, tenant }: ApplyRequest): Promise<ApplyResult> {
    const name = desired!.path[3]!;
    await client.request({
      method: 'POST',
      route: '/api/v1/admin/ddl/schemas',
      tenantId: tenant!.id,
      body: { name },
      expect: [201, 409],
    });
    return { id: name };
  },

  /** DROP SCHEMA through the migrations API. */
  async delete({ client, change, tenant, now }: ApplyRequest): Promise<void> {
    const name = change.address.split('.').pop()!;
    await runMigration({ client, tenant: tenant!, what: `drop_schema_${name}`, description: `fluxbase-iac: ${change.address} delete`, sql: change.sql ?? [], now });
  },
};
