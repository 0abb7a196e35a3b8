/**
 * `fluxbase access`: the access matrix — tables × roles × commands, and who reaches each role —
 * of the configuration (no server contacted) or, with `--live`, of the live instance (reading
 * calls only). Text, Markdown (`--format markdown`, for a pull request) or JSON (`--json`,
 * format `fluxbase-iac-access`); `--role anon` answers "what can an anonymous caller reach?".
 * Exit codes: 0 printed, 1 error. docs/access.md.
 */
import { error, hasErrors } from '../diag/index.js';
import { buildDesired } from '../engine/graph.js';
import { refresh } from '../engine/refresh.js';
import type { ResourceKind } from '../model/resource.js';
import { buildModel, type ComputedModel } from '../access/model.js';
import { renderAccessJson, renderAccessMarkdown, renderAccessText } from '../access/render.js';
import { desiredViews, liveViews } from '../access/views.js';
import { loadSqlParser } from '../sql/parser.js';
import { INTERNAL_SCHEMAS } from '../sql/identifiers.js';
import { parseAddress } from '../model/address.js';
import { isFluxbaseTable } from '../resources/internal-tables.js';
import { loadWithPlaceholders, type ConfigOptions } from './common.js';
import { connect } from './connect.js';
import { printDiagnostics, type CommandIO } from './io.js';

/** Options of `fluxbase access`. */
export interface AccessOptions extends ConfigOptions {
  live?: boolean;
  role?: string;
  tenant?: string[];
  json?: boolean;
  format?: 'text' | 'markdown' | 'json';
}

/** The kinds the access model reads from a live instance. */
const ACCESS_KINDS: ReadonlySet<ResourceKind> = new Set(['table', 'policy', 'client_key', 'service_key', 'system_setting', 'app_settings']);

/** Internal schemas that may hold user tables (the catalogs themselves are never read). */
const USER_SCHEMAS_INTERNAL: ReadonlySet<string> = new Set([...INTERNAL_SCHEMAS].filter((s) => !['information_schema', 'pg_catalog', 'pg_toast'].includes(s)));

/** Runs `fluxbase access`; returns the exit code. */
export async function accessCommand(io: CommandIO, options: AccessOptions): Promise<number> {
  const format = options.json ? 'json' : (options.format ?? 'text');
  const computed = options.live ? await liveModel(io, options) : await configModel(io, options);
  if (!computed) return 1;
  const { model } = computed;
  if (options.tenant && options.tenant.length > 0) model.tenants = model.tenants.filter((t) => options.tenant!.includes(t.tenant));
  if (options.role && !model.tenants.some((t) => t.reach.some((r) => r.role === options.role))) {
    const known = [...new Set(model.tenants.flatMap((t) => t.reach.map((r) => r.role)))];
    printDiagnostics(io, [
      error('cli.usage', `role ${options.role} appears nowhere in this model`, {
        detail: `The roles here are: ${known.join(', ') || 'none'}. Fluxbase's API runs requests as anon, authenticated, service_role (tenant_service in other tenants); other roles appear when a policy or grant names them.`,
      }),
    ]);
    return 1;
  }
  const render = { role: options.role, origin: options.live ? (options.url ?? io.env.FLUXBASE_URL) : options.app ? options.app : options.config };
  if (format === 'json') io.out(renderAccessJson(model, render).trimEnd());
  else if (format === 'markdown') io.out(renderAccessMarkdown(model, render));
  else io.out(renderAccessText(model, render));
  return 0;
}

/** The model of the configuration alone. */
async function configModel(io: CommandIO, options: AccessOptions): Promise<ComputedModel | undefined> {
  const prepared = await loadWithPlaceholders(io, options);
  if (!prepared) return undefined;
  const { loaded } = prepared;
  printDiagnostics(io, loaded.diagnostics);
  if (!loaded.valid) return undefined;
  await loadSqlParser();
  return buildModel({ views: desiredViews(buildDesired(loaded.valid)), source: 'config' });
}

/** The model of the live instance: every tenant (or `--tenant`), reading calls only. */
async function liveModel(io: CommandIO, options: AccessOptions): Promise<ComputedModel | undefined> {
  const { client, diagnostics } = connect(options, io.env);
  printDiagnostics(io, diagnostics);
  if (!client) return undefined;
  try {
    await loadSqlParser();
    const first = await refresh({ client, desired: new Map(), state: undefined, kinds: new Set(['tenant']) });
    const tenants = new Set(options.tenant && options.tenant.length > 0 ? options.tenant : first.tenants.keys());
    // User tables may also sit in Fluxbase's internal schemas (app.posts); its own tables are left out.
    const live = await refresh({ client, desired: new Map(), state: undefined, kinds: ACCESS_KINDS, tenants, schemas: USER_SCHEMAS_INTERNAL });
    printDiagnostics(io, live.diagnostics);
    if (hasErrors(live.diagnostics)) return undefined;
    const views = liveViews(live).filter((v) => {
      if (v.kind !== 'table' && v.kind !== 'policy') return true;
      const [, schema, table] = parseAddress(v.address)!.segments as [string, string, string];
      return !isFluxbaseTable(schema, table);
    });
    return buildModel({ views, source: 'live', isDefaultTenant: (slug) => live.tenants.get(slug)?.isDefault ?? false, tenants });
  } finally {
    await client.close();
  }
}
