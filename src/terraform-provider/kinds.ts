/**
 * The provider's resource types, one per resource kind, and where each kind lives in the config
 * document. This table holds only what the JSON Schema cannot say: the Terraform type name, the
 * document path (its `*` steps become the identity attributes, whose checks come from the
 * schema's `propertyNames`), child collections that are resources of their own, and which maps
 * keep their order. Everything else is derived from schemas/*.schema.json (fields.ts).
 */
import type { ResourceKind } from '../model/resource.js';
import type { DeriveOptions } from './fields.js';

/** One Terraform resource type. */
export interface KindInfo {
  kind: ResourceKind;
  typeName: string;
  /** The config path of one resource of this kind; each `*` is an identity value. */
  pattern: readonly string[];
  /** Terraform attribute names of the identity values, one per `*` in `pattern`. */
  identity: readonly string[];
  /** What the identity values are, for their descriptions. */
  identityDescriptions: readonly string[];
  derive: DeriveOptions;
  /** The server gives it a UUID (exposed as `server_id`). */
  serverId?: boolean;
  /** The create response reveals a key value once (exposed as the sensitive `key`). */
  key?: boolean;
  /**
   * Write-only values the JSON Schema does not mark (they depend on the key): body path → note.
   * The value is JSON, like the plain attribute at the same path.
   */
  extraWriteOnly?: readonly { path: readonly string[]; description: string }[];
  /**
   * A map (top-level body attribute `map`) whose entry order the server keeps when it creates
   * the resource, which a Terraform map (unordered; Terraform hands it over sorted by key) cannot
   * express: the config body lists the entries whose boolean attribute `first` is true first,
   * then the others, each group in key order. Order never causes a planned change.
   * `description` replaces the schema's description of the map (which speaks of YAML order).
   */
  createOrder?: { map: string; first: string; description: string };
  /**
   * The state schema version (0 when absent) and how to bring state stored under an older
   * version (raw state JSON, attribute → value) into the current shape.
   */
  state?: { version: number; upgrade: (fromVersion: number, raw: Record<string, unknown>) => Record<string, unknown> };
  /** Shown as the resource's description. */
  description: string;
}

const TENANT = 'Slug of the owning tenant (`fluxbase_tenant.<name>.slug`).';

/**
 * Table state version 0 (provider before columns became a map) held `columns` as a list of
 * objects with a `name`; version 1 holds the map keyed by that name.
 */
export function upgradeTableState(fromVersion: number, raw: Record<string, unknown>): Record<string, unknown> {
  if (fromVersion >= 1 || !Array.isArray(raw.columns)) return raw;
  const columns = (raw.columns as Record<string, unknown>[]).map(({ name, ...rest }) => [String(name), rest]);
  return { ...raw, columns: Object.fromEntries(columns) };
}

/** Every resource type, in the engine's dependency order of kinds. */
export const KINDS: readonly KindInfo[] = [
  {
    kind: 'app_settings',
    typeName: 'fluxbase_app_settings',
    pattern: ['settings', 'app'],
    identity: [],
    identityDescriptions: [],
    derive: {},
    description: 'Instance app settings (GET/PUT /api/v1/admin/app/settings). Only declared keys are managed; destroying it leaves the settings as they are.',
  },
  {
    kind: 'auth_settings',
    typeName: 'fluxbase_auth_settings',
    pattern: ['settings', 'auth'],
    identity: [],
    identityDescriptions: [],
    derive: {},
    description: 'Instance authentication settings (GET/PUT /api/v1/admin/auth/settings). Only declared keys are managed; destroying it leaves the settings as they are.',
  },
  {
    kind: 'system_setting',
    typeName: 'fluxbase_system_setting',
    pattern: ['settings', 'system', '*'],
    identity: ['key'],
    identityDescriptions: ['System setting key, e.g. app.auth.signup_enabled (only the server\'s whitelisted keys).'],
    derive: { optional: ['value'] },
    extraWriteOnly: [
      {
        path: ['value'],
        description: 'The value of a credential key (app.email.smtp_password, app.security.captcha.secret_key, …) as JSON: write-only, never stored. Credential keys need this instead of `value`.',
      },
    ],
    description: 'A system setting (PUT/DELETE /api/v1/admin/system/settings/{key}); destroying it restores the server default.',
  },
  {
    kind: 'oauth_provider',
    typeName: 'fluxbase_oauth_provider',
    pattern: ['oauth_providers', '*'],
    identity: ['name'],
    identityDescriptions: ['Provider name (github, google, … or a custom name).'],
    derive: {},
    serverId: true,
    description: 'An OAuth sign-in provider (/api/v1/admin/oauth/providers).',
  },
  {
    kind: 'client_key',
    typeName: 'fluxbase_client_key',
    pattern: ['client_keys', '*'],
    identity: ['name'],
    identityDescriptions: ['Client key name.'],
    derive: { absentIsDefault: ['expires_at'] },
    serverId: true,
    key: true,
    description: 'An instance-wide client key (/api/v1/client-keys). `key` holds its value after create (null after import).',
  },
  {
    kind: 'tenant',
    typeName: 'fluxbase_tenant',
    pattern: ['tenants', '*'],
    identity: ['slug'],
    identityDescriptions: ['Tenant slug. `default` adopts the built-in default tenant, which is never created or deleted.'],
    derive: { exclude: ['schemas', 'webhooks', 'service_keys', 'settings'] },
    serverId: true,
    description: 'A tenant (/api/v1/admin/tenants). Destroy is a soft delete: the slug cannot be reused until the tenant is recovered.',
  },
  {
    kind: 'schema',
    typeName: 'fluxbase_schema',
    pattern: ['tenants', '*', 'schemas', '*'],
    identity: ['tenant', 'name'],
    identityDescriptions: [TENANT, 'Database schema name. `public` and Fluxbase\'s internal schemas are adopted, never created or dropped.'],
    derive: { exclude: ['tables'] },
    description: 'A database schema of a tenant (POST /api/v1/admin/ddl/schemas; destroy runs DROP SCHEMA … RESTRICT as a migration).',
  },
  {
    kind: 'table',
    typeName: 'fluxbase_table',
    pattern: ['tenants', '*', 'schemas', '*', 'tables', '*'],
    identity: ['tenant', 'schema', 'name'],
    identityDescriptions: [TENANT, 'Database schema of the table (`public`, or `fluxbase_schema.<name>.name`).', 'Table name.'],
    // renamed_from and using are directives for one plan, not attributes of the table: the
    // fluxbase CLI's plan honours them (docs/hazards.md); Terraform plans each resource on its own.
    derive: {
      exclude: ['rls.policies', 'renamed_from', 'columns.*.renamed_from', 'columns.*.using'],
      absentIsDefault: ['columns.*.default', 'columns.*.references'],
    },
    state: { version: 1, upgrade: upgradeTableState },
    // PostgreSQL cannot reorder existing columns, so order matters only to CREATE TABLE.
    createOrder: {
      map: 'columns',
      first: 'primary_key',
      description:
        'Columns keyed by name. A map has no order and PostgreSQL cannot reorder existing columns, so order matters only when the table is created: primary-key columns first, then the others by name. Order never causes a change. Columns that exist live but are not declared here are dropped (DELETES_DATA).',
    },
    description:
      'A table: columns keyed by name, indexes, checks, RLS enablement and realtime. A new table gets its primary-key columns first, then the others in name order; column order never causes a change. Policies are fluxbase_rls_policy resources.',
  },
  {
    kind: 'policy',
    typeName: 'fluxbase_rls_policy',
    pattern: ['tenants', '*', 'schemas', '*', 'tables', '*', 'rls', 'policies', '*'],
    identity: ['tenant', 'schema', 'table', 'name'],
    identityDescriptions: [TENANT, 'Database schema of the table.', 'Table name (`fluxbase_table.<name>.name`).', 'Policy name.'],
    derive: { absentIsDefault: ['using', 'with_check'] },
    description: 'A row-level security policy (/api/v1/admin/policies). Enable RLS on the table with `rls = { enabled = true }`.',
  },
  {
    kind: 'webhook',
    typeName: 'fluxbase_webhook',
    pattern: ['tenants', '*', 'webhooks', '*'],
    identity: ['tenant', 'name'],
    identityDescriptions: [TENANT, 'Webhook name.'],
    derive: { absentIsDefault: ['events'] },
    serverId: true,
    description: 'A database-change webhook (/api/v1/webhooks).',
  },
  {
    kind: 'service_key',
    typeName: 'fluxbase_service_key',
    pattern: ['tenants', '*', 'service_keys', '*'],
    identity: ['tenant', 'name'],
    identityDescriptions: [TENANT, 'Service key name (unique within the tenant).'],
    derive: { absentIsDefault: ['scopes', 'expires_at'] },
    serverId: true,
    key: true,
    description: 'A tenant service key (/api/v1/admin/service-keys). `key` holds its value after create (null after import).',
  },
  {
    kind: 'custom_setting',
    typeName: 'fluxbase_custom_setting',
    pattern: ['tenants', '*', 'settings', 'custom', '*'],
    identity: ['tenant', 'key'],
    identityDescriptions: [TENANT, 'Setting key (unique across the whole instance on the server).'],
    derive: { absentIsDefault: ['value', 'value_type'] },
    description: 'A tenant custom setting, or with `secret_wo` a secret setting (/api/v1/admin/settings/custom). Writes need admin_email/admin_password.',
  },
];

/** The info of a Terraform type name. */
export function kindByType(typeName: string): KindInfo | undefined {
  return KINDS.find((k) => k.typeName === typeName);
}

/** The info of a resource kind. */
export function kindInfo(kind: ResourceKind): KindInfo {
  const info = KINDS.find((k) => k.kind === kind);
  if (!info) throw new Error(`no Terraform resource type for kind ${kind}`);
  return info;
}
