/**
 * Rules the JSON Schema cannot express, checked before any API call: reserved and hidden
 * identifiers, SQL syntax of types and expressions, policies on undeclared tables, references
 * to undeclared columns, and combinations PostgreSQL would reject.
 */
import { error, warning, type Diagnostic } from '../diag/index.js';
import type { Table, Tenant } from '../model/config.generated.js';
import { INTERNAL_SCHEMAS, RESERVED_IDENTIFIERS } from '../sql/identifiers.js';
import { AUTH_SETTINGS_AT_RUNTIME, currentProfile, FLUXBASE_INTERNAL_SCHEMAS } from '../server/profile.js';
import { canonicalType, isBuiltinType, parseType, TYPE_SUGGESTIONS } from '../sql/types.js';
import { expressionFacts, unknownColumns } from '../sql/expression.js';
import { defaultSql } from '../sql/defaults.js';
import { toPointer } from './source-index.js';
import { APP_SETTING_KEYS, SYSTEM_SETTING_KEYS } from '../resources/system-setting.js';
import { closest } from './validate.js';
import { allHandlers } from '../resources/index.js';
import { undeliverableReason } from '../resources/webhook.js';
import type { ValidConfig } from './validate.js';

/** Every semantic diagnostic of a schema-valid config. Requires loadSqlParser(). */
export function semanticDiagnostics(valid: ValidConfig): Diagnostic[] {
  const out: Diagnostic[] = [];
  const at = (path: (string | number)[], preferKey = false) => ({
    path,
    // Looked up only if a diagnostic is reported and read (see SourceIndex.locateLater).
    location: valid.sources.locateLater(toPointer(path), preferKey),
  });
  const identifier = (kind: string, name: string, path: (string | number)[]) => {
    if (RESERVED_IDENTIFIERS.has(name.toLowerCase())) {
      out.push(
        error('config.identifier', `'${name}' is a reserved keyword and cannot be used as a ${kind} name`, {
          ...at(path, true),
          detail: `The Fluxbase DDL API rejects the names ${[...RESERVED_IDENTIFIERS].join(', ')}. Choose another name (e.g. '${name}s' or 'app_${name}').`,
        }),
      );
    }
  };

  out.push(...settingsDiagnostics(valid, at));
  // Building every desired resource is only worth it when there are imports, removals or moves to check.
  const checksAddresses = [valid.config.import, valid.config.removed, valid.config.moved].some((list) => (list ?? []).length > 0);
  const declared = checksAddresses ? buildDesiredAddresses(valid) : new Set<string>();
  (valid.config.import ?? []).forEach((address, i) => {
    if (!declared.has(address)) {
      out.push(
        error('config.reference', `import of ${address}, which the configuration does not declare`, {
          ...at(['import', i]),
          detail: 'Declare the resource too: import adopts an existing resource into a declaration, it does not declare it.',
        }),
      );
    }
  });
  out.push(...lifecycleDiagnostics(valid, declared, at));
  for (const [slug, tenant] of Object.entries(valid.config.tenants ?? {})) {
    if (!tenant) continue;
    for (const [name, webhook] of Object.entries(tenant.webhooks ?? {})) {
      (webhook?.events ?? []).forEach((event, i) => {
        const reason = undeliverableReason(slug, event.table);
        if (reason) {
          out.push(
            warning('config.webhook-undeliverable', `webhook ${name} will never deliver events of ${event.table}`, {
              ...at(['tenants', slug, 'webhooks', name, 'events', i, 'table']),
              detail: `On Fluxbase ${currentProfile().version}, ${reason}. The webhook is created, but no row change of this table reaches it. Watch a table of the default tenant instead (see docs/tenants.md).`,
            }),
          );
        }
      });
    }
    for (const [schemaName, schema] of Object.entries(tenant.schemas ?? {})) {
      if (!schema) continue;
      const schemaPath = ['tenants', slug, 'schemas', schemaName];
      identifier('schema', schemaName, schemaPath);
      if (/^pg./.test(schemaName)) {
        out.push(error('config.identifier', `schema names starting with 'pg' are hidden by the server's listings`, at(schemaPath, true)));
      }
      for (const [tableName, table] of Object.entries(schema.tables ?? {})) {
        if (!table) continue;
        const tablePath = [...schemaPath, 'tables', tableName];
        const internal = internalSchemaTable(schemaName, tableName, at(tablePath, true));
        if (internal) {
          out.push(internal);
          continue;
        }
        const previous = table.renamed_from;
        if (previous !== undefined && (previous === tableName || schema.tables?.[previous])) {
          out.push(
            error('config.conflict', previous === tableName ? `table ${tableName} is renamed_from itself` : `table ${tableName} is renamed_from ${previous}, which is declared too`, {
              ...at([...tablePath, 'renamed_from']),
              detail: 'renamed_from names the table\'s previous name, which no other declaration may use: remove one of them.',
            }),
          );
        }
        identifier('table', tableName, tablePath);
        if (/^pg./.test(tableName)) {
          out.push(
            error('config.identifier', `table names starting with 'pg' are hidden by the server's table listings`, {
              ...at(tablePath, true),
              detail: 'Fluxbase lists tables with NOT LIKE \'pg_%\', so the tool could never see this table again. Rename it.',
            }),
          );
        }
        out.push(...tableDiagnostics(`${schemaName}.${tableName}`, table, tablePath, at, identifier));
        out.push(...referenceDiagnostics(schemaName, table, tablePath, tenant, at));
      }
    }
  }
  return out;
}

/**
 * F1: a table declared in one of Fluxbase's own schemas. The real server drops user tables (with
 * their columns, indexes and policies) in its internal schemas at its next start, and re-creates
 * the policies of its own tables from its schema files; the other reserved schemas are hidden by
 * its listings. Reading Fluxbase's own tables (`fluxbase export --include-internal`) stays possible.
 */
function internalSchemaTable(schema: string, table: string, where: ReturnType<At>): Diagnostic | undefined {
  if (!INTERNAL_SCHEMAS.has(schema)) return undefined;
  const rebuilt = FLUXBASE_INTERNAL_SCHEMAS.includes(schema) && currentProfile().internalSchemasRebuiltAtStart;
  return error('config.internal-schema', `table ${schema}.${table} is in ${rebuilt ? "Fluxbase's internal schema" : 'the reserved schema'} '${schema}'`, {
    ...where,
    detail: rebuilt
      ? `The server rebuilds its internal schemas (${FLUXBASE_INTERNAL_SCHEMAS.join(', ')}) at every start: user tables there — with their rows, indexes and policies — are dropped, and policies on Fluxbase's own tables are reset (internal/api/server_init.go:325-339, cmd/fluxbase/main.go:201-266). Declare the table in \`public\` or in a schema of your own (e.g. \`schemas: { blog: { tables: { ${table}: … } } }\`).`
      : `The server hides '${schema}' from its listings and reserves it. Declare the table in \`public\` or in a schema of your own.`,
  });
}

/** Addresses the config declares (to check `import:` entries). */
/**
 * `removed:` and `moved:` entries: a removed address must no longer be declared; a move goes from
 * an address that is no longer declared to one that is, between resources of one kind, and each
 * address moves once.
 */
function lifecycleDiagnostics(valid: ValidConfig, declared: ReadonlySet<string>, at: At): Diagnostic[] {
  const out: Diagnostic[] = [];
  (valid.config.removed ?? []).forEach((address, i) => {
    if (declared.has(address)) {
      out.push(
        error('config.conflict', `${address} is still declared`, {
          ...at(['removed', i]),
          detail: '`removed:` stops managing a resource the configuration no longer declares. Delete its declaration too, or drop this entry to keep managing it.',
        }),
      );
    }
  });
  const sources = new Set<string>();
  (valid.config.moved ?? []).forEach((move, i) => {
    const kind = (a: string) => /^[a-z_]+/.exec(a)?.[0];
    if (!declared.has(move.to)) {
      out.push(error('config.reference', `${move.to} is not declared`, { ...at(['moved', i, 'to']), detail: 'A move gives a managed resource a new address that the configuration declares.' }));
    }
    if (declared.has(move.from)) {
      out.push(error('config.conflict', `${move.from} is still declared`, { ...at(['moved', i, 'from']), detail: 'Delete the old declaration: after a move only the new address is declared.' }));
    }
    if (kind(move.from) !== kind(move.to)) {
      out.push(error('config.conflict', `cannot move a ${kind(move.from)} to a ${kind(move.to)} address`, { ...at(['moved', i]), detail: 'A move keeps the kind of a resource; it only changes its address.' }));
    }
    if (sources.has(move.from)) out.push(error('config.conflict', `${move.from} is moved twice`, at(['moved', i, 'from'])));
    sources.add(move.from);
  });
  return out;
}

function buildDesiredAddresses(valid: ValidConfig): Set<string> {
  const out = new Set<string>();
  for (const h of allHandlers()) for (const r of h.desired({ config: valid.config, sources: valid.sources, preventDestroyDefault: false })) out.add(r.address);
  return out;
}

/** System-setting whitelist, double management of one server key, custom-setting keys. */
function settingsDiagnostics(valid: ValidConfig, at: At): Diagnostic[] {
  const out: Diagnostic[] = [];
  if (currentProfile().authSettingsIgnoredByRuntime) {
    for (const key of Object.keys(valid.config.settings?.auth ?? {})) {
      const runtime = AUTH_SETTINGS_AT_RUNTIME[key];
      if (!runtime || runtime.effective) continue;
      out.push(
        warning('config.ineffective-setting', `settings.auth.${key} has no effect on Fluxbase ${currentProfile().version}: ${runtime.why}`, {
          ...at(['settings', 'auth', key], true),
          detail:
            'PUT /api/v1/admin/auth/settings stores it (the dashboard shows it), but the server never reads that copy. ' +
            (runtime.use ? `Declare ${runtime.use} instead, which writes the key the server reads.` : 'Remove it: no route sets a value the server reads.'),
        }),
      );
    }
  }
  const system = valid.config.settings?.system ?? {};
  for (const key of Object.keys(system)) {
    if (!SYSTEM_SETTING_KEYS.has(key)) {
      const guess = closest(key, [...SYSTEM_SETTING_KEYS]);
      out.push(
        error('config.schema', `'${key}' is not a system setting the server accepts${guess ? ` (did you mean '${guess}'?)` : ''}`, {
          ...at(['settings', 'system', key], true),
          detail: `PUT /api/v1/admin/system/settings only accepts its whitelisted keys. Application configuration belongs in a tenant's settings.custom, e.g. tenants.default.settings.custom["${key}"].`,
        }),
      );
    }
  }
  const app = (valid.config.settings?.app ?? {}) as Record<string, Record<string, unknown> | undefined>;
  for (const [field, key] of Object.entries(APP_SETTING_KEYS)) {
    const [section, name] = field.split('.') as [string, string];
    if (app[section] === undefined || !(key in system)) continue;
    // PUT /admin/app/settings writes a present section whole (its undeclared fields with the live
    // values the plan read), so a section and a system setting it contains cannot both be declared.
    out.push(
      error('config.conflict', `settings.app.${section} and settings.system["${key}"] both write ${key}`, {
        ...at(['settings', 'system', key], true),
        detail:
          app[section]?.[name] !== undefined
            ? 'Declare it in one place only, or each apply would undo the other.'
            : `The server writes the whole ${section} section, ${key} included, whenever settings.app.${section} changes. Declare it as settings.app.${field} instead.`,
      }),
    );
  }
  const owners = new Map<string, string>();
  for (const [slug, tenant] of Object.entries(valid.config.tenants ?? {})) {
    for (const [key, setting] of Object.entries(tenant?.settings?.custom ?? {})) {
      const path = ['tenants', slug, 'settings', 'custom', key];
      if (!setting) continue;
      if ((setting.value === undefined) === (setting.secret === undefined)) {
        out.push(error('config.schema', 'declare exactly one of `value` and `secret`', { ...at(path, true), detail: '`value` holds configuration (any JSON); `secret` makes a write-only secret setting.' }));
      }
      if (setting.secret !== undefined && (setting.value_type !== undefined || setting.editable_by !== undefined)) {
        out.push(error('config.schema', 'a secret setting has no value_type or editable_by', at(path, true)));
      }
      const other = owners.get(key);
      if (other) {
        out.push(
          error('config.conflict', `custom setting key '${key}' is also declared in tenant ${other}`, {
            ...at(path, true),
            detail: 'The server keeps custom-setting keys unique across the whole instance (the second create answers 409). Prefix keys with the tenant, e.g. acme.features.flags.',
          }),
        );
      } else owners.set(key, slug);
      if (SYSTEM_SETTING_KEYS.has(key)) {
        out.push(error('config.conflict', `custom setting key '${key}' is a system setting key`, { ...at(path, true), detail: 'Keys are unique across system and custom settings; declare it under settings.system instead.' }));
      }
    }
  }
  return out;
}

type At = (path: (string | number)[], preferKey?: boolean) => { path: (string | number)[]; location?: Diagnostic['location'] };

function tableDiagnostics(
  qualifiedName: string,
  table: Table,
  tablePath: (string | number)[],
  at: At,
  identifier: (kind: string, name: string, path: (string | number)[]) => void,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const columns = table.columns ?? {};
  const columnNames = new Set(Object.keys(columns));
  if (table.external && table.columns) {
    out.push(
      error('config.conflict', `table ${qualifiedName} is external but declares columns`, {
        ...at([...tablePath, 'columns'], true),
        detail: 'An external table is owned elsewhere: remove `columns`, or remove `external: true` to manage the table.',
      }),
    );
  }
  if (!table.external && !table.columns) {
    const policies = Object.keys(table.rls?.policies ?? {});
    out.push(
      error(
        'config.undeclared-table',
        policies.length > 0
          ? `policy ${policies[0]} is declared on table ${qualifiedName}, which declares no columns`
          : `table ${qualifiedName} declares no columns`,
        {
          ...at(policies.length > 0 ? [...tablePath, 'rls', 'policies', policies[0]!] : tablePath, true),
          detail: `Declare the table's columns under ${tablePath.join('.')}.columns, or set \`external: true\` on the table to manage only its RLS, policies and realtime settings while another tool owns the table.`,
        },
      ),
    );
  }
  for (const [name, column] of Object.entries(columns)) {
    if (!column) continue;
    const colPath = [...tablePath, 'columns', name];
    identifier('column', name, colPath);
    if (canonicalType(column.type) === undefined) {
      out.push(
        error('config.schema', `'${column.type}' is not a valid PostgreSQL type`, {
          ...at([...colPath, 'type']),
          detail: 'Write a type PostgreSQL accepts, e.g. text, uuid, integer, timestamptz, varchar(255), numeric(10,2), text[].',
        }),
      );
    } else if (!isBuiltinType(column.type)) {
      const guess = parseType(column.type)!.schema ? undefined : closest(parseType(column.type)!.name, TYPE_SUGGESTIONS, 1);
      out.push(
        warning('config.reference', `'${column.type}' is not a built-in PostgreSQL type${guess ? ` (did you mean '${guess}'?)` : ''}`, {
          ...at([...colPath, 'type']),
          detail: 'It must be a type the server\'s database has (an extension\'s, an enum, a domain); the plan checks that it exists before any change.',
        }),
      );
    }
    const problem = defaultSql(column.default).problem;
    if (problem) out.push(error('config.schema', problem.summary, { ...at([...colPath, 'default']), detail: problem.detail }));
    if (column.using !== undefined) out.push(...expressionDiagnostics(`using of column ${name}`, column.using, columnNames, at([...colPath, 'using']), qualifiedName));
    if (column.renamed_from !== undefined && (column.renamed_from === name || columnNames.has(column.renamed_from))) {
      out.push(
        error('config.conflict', column.renamed_from === name ? `column ${name} is renamed_from itself` : `column ${name} is renamed_from ${column.renamed_from}, which is declared too`, {
          ...at([...colPath, 'renamed_from']),
          detail: 'renamed_from names the column\'s previous name, which no other column may use: remove one of them.',
        }),
      );
    }
    if (column.primary_key && column.nullable === true) {
      out.push(
        error('config.conflict', `primary key column ${name} cannot be nullable`, {
          ...at([...colPath, 'nullable']),
          detail: 'Remove `nullable: true`: primary key columns are always NOT NULL.',
        }),
      );
    }
  }
  for (const [name, index] of Object.entries(table.indexes ?? {})) {
    if (!index || table.external) continue;
    index.columns.forEach((c, i) => {
      if (!columnNames.has(c)) {
        out.push(error('config.reference', `index ${name} uses column ${c}, which the table does not declare`, at([...tablePath, 'indexes', name, 'columns', i])));
      }
    });
  }
  const known = table.external ? undefined : columnNames;
  for (const [name, expression] of Object.entries(table.checks ?? {})) {
    if (expression !== undefined) out.push(...expressionDiagnostics(`check ${name}`, expression, known, at([...tablePath, 'checks', name]), qualifiedName));
  }
  for (const [i, c] of (table.realtime?.exclude ?? []).entries()) {
    if (!table.external && !columnNames.has(c)) {
      out.push(error('config.reference', `realtime excludes column ${c}, which the table does not declare`, at([...tablePath, 'realtime', 'exclude', i])));
    }
  }
  if (Object.keys(table.rls?.policies ?? {}).length > 0 && table.rls?.enabled === undefined) {
    out.push(
      warning('config.conflict', `table ${qualifiedName} declares policies but not rls.enabled`, {
        ...at([...tablePath, 'rls'], true),
        detail: 'Policies only take effect while row-level security is enabled. Add `enabled: true` (or `false` to keep it off deliberately).',
      }),
    );
  }
  for (const [name, policy] of Object.entries(table.rls?.policies ?? {})) {
    if (!policy) continue;
    const path = [...tablePath, 'rls', 'policies', name];
    const command = policy.command ?? 'ALL';
    for (const field of ['using', 'with_check'] as const) {
      const expr = policy[field];
      if (expr !== undefined) out.push(...expressionDiagnostics(`${field} of policy ${name}`, expr, known, at([...path, field]), qualifiedName));
    }
    if (policy.with_check !== undefined && (command === 'SELECT' || command === 'DELETE')) {
      out.push(error('config.conflict', `WITH CHECK cannot be applied to ${command} policies`, { ...at([...path, 'with_check']), detail: 'Remove with_check, or change the command.' }));
    }
    if (policy.using !== undefined && command === 'INSERT') {
      out.push(error('config.conflict', 'only WITH CHECK expression allowed for INSERT policies', { ...at([...path, 'using']), detail: 'Rename `using` to `with_check`.' }));
    }
    if (policy.using === undefined && policy.with_check === undefined) {
      out.push(warning('config.conflict', `policy ${name} has neither using nor with_check: it matches every row`, at(path, true)));
    }
  }
  return out;
}

function sqlError(summary: string, sql: string, where: ReturnType<At>): Diagnostic {
  return error('config.schema', summary, {
    ...where,
    detail: `PostgreSQL cannot parse: ${sql}`,
  });
}

/**
 * A policy, check or USING expression: it must parse as one expression, and every column it names
 * outside subqueries must be a column of its table (`columns`; undefined: not known here, e.g. an
 * external table, checked against the live table when planning). `table` is `schema.table`.
 */
function expressionDiagnostics(what: string, sql: string, columns: ReadonlySet<string> | undefined, where: ReturnType<At>, table?: string): Diagnostic[] {
  const facts = expressionFacts(sql);
  if (!facts) return [sqlError(`${what} is not a valid SQL expression`, sql, where)];
  if (!columns) return [];
  return unknownColumns(facts.columns, columns, table?.split('.')[1] ?? '').map((column) => {
    const guess = closest(column, [...columns]);
    return error('config.reference', `${what} refers to column ${column}, which ${table ?? 'the table'} does not declare${guess ? ` (did you mean '${guess}'?)` : ''}`, {
      ...where,
      detail: `Columns of ${table ?? 'the table'}: ${[...columns].join(', ')}. PostgreSQL would refuse the expression only when it is applied, after the changes before it.`,
    });
  });
}

/**
 * Foreign keys to a table this tenant declares: the referenced column must be one of its columns
 * (a table the tenant does not declare is checked against the live database when planning).
 */
function referenceDiagnostics(schema: string, table: Table, tablePath: (string | number)[], tenant: Tenant, at: At): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const [name, column] of Object.entries(table.columns ?? {})) {
    const ref = column?.references;
    if (!ref) continue;
    const [refSchema, refTable] = ref.table.includes('.') ? (ref.table.split('.') as [string, string]) : [schema, ref.table];
    const target = tenant.schemas?.[refSchema]?.tables?.[refTable];
    if (!target || target.external) continue;
    const refColumn = ref.column ?? 'id';
    if (!target.columns?.[refColumn]) {
      out.push(
        error('config.reference', `column ${name} references ${refSchema}.${refTable}(${refColumn}), which that table does not declare`, {
          ...at([...tablePath, 'columns', name, 'references', ref.column !== undefined ? 'column' : 'table']),
          detail: `Columns of ${refSchema}.${refTable}: ${Object.keys(target.columns ?? {}).join(', ')}. Set references.column to the referenced key.`,
        }),
      );
    }
  }
  return out;
}
