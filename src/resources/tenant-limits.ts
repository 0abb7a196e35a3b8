/**
 * What the real server can do to a table, by where the table lives (src/server/profile.ts F2, F3):
 *
 * | where | creates | later changes |
 * | --- | --- | --- |
 * | the default tenant (main database) | DDL endpoints, or a migration run as the admin user | everything |
 * | another tenant's `public` | one migration, run as `tenant_migration_role`, which then owns the table | everything through migrations while that role owns the table; DDL endpoints and RLS/policy endpoints always |
 * | another tenant's own schema | DDL endpoints only (the admin user owns the table) | add/drop column, drop, rename, RLS, policies — no migration can touch it |
 *
 * Realtime cannot be enabled in any tenant with its own database (F3). A table in another
 * tenant's `public` that `tenant_migration_role` does not own (made in the dashboard, through the
 * DDL endpoints, or by an older version of this tool) takes only the DDL-endpoint changes.
 *
 * This module turns those facts into located plan-time errors, so an apply never starts what the
 * server will refuse (docs/tenants.md).
 */
import { error, type Diagnostic } from '../diag/index.js';
import type { PlannedStep } from '../model/plan.js';
import type { DesiredResource } from '../model/resource.js';
import { currentProfile, TENANT_MIGRATION_ROLE } from '../server/profile.js';
import { DEFAULT_TENANT_SLUG } from './tenant.js';

/** Where a table lives, as far as the server's privileges are concerned. */
export type TablePlacement = 'main' | 'tenant-public' | 'tenant-schema';

/**
 * The placement of `schema` in `tenant` (a slug). Every tenant but the default one has its own
 * database (the server creates one per tenant; `Tenant.UsesMainDatabase`, internal/tenantdb/types.go:27).
 */
export function tablePlacement(tenant: string, schema: string): TablePlacement {
  if (tenant === DEFAULT_TENANT_SLUG || !currentProfile().tenantMigrationsAsMigrationRole) return 'main';
  return schema === 'public' ? 'tenant-public' : 'tenant-schema';
}

/** Input of {@link tableLimitDiagnostics}. */
export interface TableLimitRequest {
  address: string;
  tenant: string;
  schema: string;
  steps: readonly PlannedStep[];
  /** The live table's owner (catalog `pg_get_userbyid(relowner)`); undefined when it does not exist yet. */
  owner?: string;
  desired?: DesiredResource;
  /** What needs the migration, for the message (e.g. "index posts_author_idx"). */
  migrationReasons: readonly string[];
}

/** Errors for the planned steps of one table the server would refuse (F2, F3). */
export function tableLimitDiagnostics(req: TableLimitRequest): Diagnostic[] {
  const placement = tablePlacement(req.tenant, req.schema);
  const out: Diagnostic[] = [];
  const where = { address: req.address, location: req.desired?.source };
  const reasons = req.migrationReasons.length > 0 ? ` (${req.migrationReasons.join(', ')})` : '';
  if (placement !== 'main' && req.steps.some((s) => s.op === 'migration')) {
    if (placement === 'tenant-schema') {
      out.push(
        error('plan.server-limit', `tenant ${req.tenant}'s migrations cannot create or change tables in schema ${req.schema}${reasons}`, {
          ...where,
          detail:
            `Tenant ${req.tenant} has its own database, where the server runs migrations as ${TENANT_MIGRATION_ROLE} (internal/migrations/tenant_executor.go:195-227), which may only create in \`public\` (bootstrap.sql:191-192). ` +
            `In a schema of your own only what the DDL endpoints do works: creating a table with their allow-listed types, adding and dropping columns, RLS and policies. ` +
            `Declare the table in this tenant's \`public\` schema (the tool creates it there through a migration, so indexes, constraints and later changes work), or leave out what needs SQL.`,
        }),
      );
    } else if (req.owner !== undefined && req.owner !== TENANT_MIGRATION_ROLE) {
      out.push(
        error('plan.server-limit', `table ${req.address.split('.').slice(2).join('.')} of tenant ${req.tenant} is owned by ${req.owner}, so the server's tenant migrations cannot change it${reasons}`, {
          ...where,
          detail:
            `Tenant ${req.tenant}'s migrations run as ${TENANT_MIGRATION_ROLE}, and only a table's owner may alter it ("must be owner of table"). The table was created by the DDL endpoints, the dashboard or an earlier tool, so ${req.owner} owns it. ` +
            `Only DDL-endpoint changes (add or drop a column, RLS, policies) are possible on it. To manage it fully, recreate it through this configuration (rename it, or drop and re-create it), or make this change as a database superuser.`,
        }),
      );
    }
  }
  if (placement !== 'main' && currentProfile().tenantRealtimeBroken && req.steps.some((s) => s.op === 'realtime_enable' || s.op === 'realtime_update')) {
    out.push(
      error('plan.server-limit', `realtime cannot be enabled in tenant ${req.tenant}`, {
        ...where,
        location: req.desired?.source,
        detail:
          `In a tenant with its own database the server's realtime registry is a foreign table, so enabling realtime fails with 500 "Failed to enable realtime" (internal/api/realtime_admin_handler.go:166-186). ` +
          'Remove `realtime` from this table (realtime works for tables of the default tenant).',
      }),
    );
  }
  return out;
}

/** Errors for deleting a schema of a tenant with its own database (no route can drop it). */
export function schemaDeleteDiagnostics(address: string, tenant: string, schema: string): Diagnostic[] {
  if (tablePlacement(tenant, schema) === 'main') return [];
  return [
    error('plan.server-limit', `schema ${schema} of tenant ${tenant} cannot be dropped through the API`, {
      address,
      detail:
        `The API has no route to drop a schema, and tenant ${tenant}'s migrations run as ${TENANT_MIGRATION_ROLE}, which does not own it ("must be owner of schema"). ` +
        'Keep the schema declared (an empty schema costs nothing), or drop it as a database superuser and then run `fluxbase state rm` on its address.',
    }),
  ];
}
