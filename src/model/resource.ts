/**
 * Desired and live resources: the two sides the engine diffs. Both are keyed by address and hold
 * attributes in the same canonical shape, produced by each resource handler (src/resources).
 */
import type { SourceLocation } from '../diag/index.js';

/** Every resource kind the tool manages. The handler registry is typed against this union. */
export type ResourceKind =
  | 'app_settings'
  | 'auth_settings'
  | 'system_setting'
  | 'oauth_provider'
  | 'client_key'
  | 'tenant'
  | 'schema'
  | 'table'
  | 'policy'
  | 'webhook'
  | 'service_key'
  | 'custom_setting';

/** Every resource kind, in dependency order (a kind may depend only on kinds before it). */
export const RESOURCE_KINDS: readonly ResourceKind[] = [
  'app_settings',
  'auth_settings',
  'system_setting',
  'oauth_provider',
  'client_key',
  'tenant',
  'schema',
  'table',
  'policy',
  'webhook',
  'service_key',
  'custom_setting',
];

/** A tenant as the engine knows it: slug from the config, UUID from the server once it exists. */
export interface TenantRef {
  slug: string;
  id: string;
  isDefault: boolean;
}

/** One resource as the configuration declares it. */
export interface DesiredResource {
  address: string;
  kind: ResourceKind;
  /** Owning tenant's slug for tenant-scoped kinds. */
  tenant?: string;
  /**
   * Declared attributes in canonical form. Only attributes the user declared (or that are always
   * managed, with their documented default) are present: absent means "not managed".
   * Write-only values are NOT here; see `writeOnly`.
   */
  attrs: Record<string, unknown>;
  /** Write-only values by attribute name (plaintext, memory only; never rendered or stored). */
  writeOnly: Record<string, string | null>;
  /** Addresses of desired resources that must exist first. */
  dependsOn: string[];
  /** `lifecycle.prevent_destroy`, resolved against the config-level default. */
  preventDestroy: boolean;
  /** Built-in objects (default tenant, schema public) are adopted, never created or deleted. */
  builtin?: boolean;
  /** When set, the resource is declared as a reference only (e.g. an external table). */
  external?: boolean;
  /** Where the resource is declared. */
  source?: SourceLocation;
  /**
   * Where parts of the declaration are, by config path relative to the resource
   * (`columns.title.type`, `renamed_from`, `events.0.table`), for diagnostics that point at them.
   * Like `source`, never diffed or rendered.
   */
  sources?: Record<string, SourceLocation>;
  /**
   * The address this resource had before a rename the configuration declares (`renamed_from:`):
   * when only that address exists live, the plan renames it instead of creating this one and
   * deleting that one (engine/rename.ts).
   */
  renamedFrom?: string;
  /** Handler-private facts from the declaration (e.g. raw default texts); never diffed or rendered. */
  meta?: Record<string, unknown>;
  /** Config path of the declaration, e.g. ["tenants","acme","webhooks","x"]. */
  path: string[];
}

/** One resource as it exists on the server. */
export interface LiveResource {
  address: string;
  kind: ResourceKind;
  tenant?: string;
  /** Server-side id (UUID, or name where the API addresses by name). */
  id?: string;
  /** Attributes in the same canonical shape as DesiredResource.attrs. */
  attrs: Record<string, unknown>;
  /**
   * Stable hash of the server's representation, for stale-plan detection. Absent: the hash of
   * `attrs`, computed only for resources a plan changes (`liveFingerprint` in model/canonical.ts); a refresh of
   * thousands of unchanged resources hashes none of them.
   */
  fingerprint?: string;
  /** Address of the resource this one lives inside (a table's schema, a policy's table). */
  parent?: string;
  /** Built-in objects that can never be deleted (default tenant, schema public). */
  builtin?: boolean;
  /**
   * Fluxbase's own objects (tables and policies in its internal schemas such as auth, storage or
   * app): never reported as "not managed"; managed only when the configuration declares them.
   */
  hidden?: boolean;
  /**
   * Handler-private facts about the live object that are not attributes (constraint names,
   * raw fields needed to build a full-replacement body). Never diffed or rendered.
   */
  meta?: Record<string, unknown>;
  /**
   * Ids of every live object with this address when the server holds more than one (it does not
   * enforce unique names for OAuth providers, client keys or webhooks). The engine refuses to
   * guess which one a configuration manages.
   */
  ambiguous?: string[];
  /**
   * For write-only attributes the server reports as present or absent (OAuth `has_secret`): an
   * absent value that the configuration declares is always re-sent.
   */
  writeOnlyPresent?: Record<string, boolean>;
}
