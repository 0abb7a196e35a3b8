/**
 * The shape every resource handler has (after terraform-plugin-framework): a handler only
 * translates between the declared spec and the Fluxbase API. The engine owns diffing, ordering,
 * rendering, gating and state. Every method takes one request object, so adding a field never
 * breaks a handler. Optional members have documented defaults.
 */
import type { Diagnostic } from '../diag/index.js';
import type { FluxbaseClient, Identity } from '../client/http.js';
import type { FluxbaseConfig } from '../model/config.generated.js';
import type { AttributeChange, Hazard, PlannedStep, ResourceChange } from '../model/plan.js';
import type { DesiredResource, LiveResource, ResourceKind, TenantRef } from '../model/resource.js';
import type { SourceIndex } from '../engine/source-index.js';

/**
 * How the engine compares one attribute path (glob segments, `*` matches one key):
 * - `compare: 'sql'` — SQL expressions compared by syntax tree (sql/expression.ts), with the
 *   rendering recorded in state after the last apply as fallback;
 * - `compare: 'set'` — arrays compared as sets;
 * - `compare: 'type'` — PostgreSQL types compared by canonical spelling (`timestamptz` =
 *   `timestamp with time zone`);
 * - `exact: true` — on a map: live keys that are not declared are reported as removals (columns,
 *   indexes, checks); otherwise undeclared keys are left alone (settings);
 * - `replace: true` — a change forces a replacement (the API cannot change it in place);
 * - `sensitive: true` — values are masked in every output.
 */
export interface AttributeRule {
  path: string;
  compare?: 'sql' | 'set' | 'type';
  exact?: boolean;
  replace?: boolean;
  sensitive?: boolean;
}

/** What a handler needs to read live state. */
export interface ListRequest {
  client: FluxbaseClient;
  /** Set for tenant-scoped kinds. */
  tenant?: TenantRef;
  /**
   * Database schemas the configuration declares or the state manages in this tenant. Fluxbase's
   * internal schemas (e.g. `app`, `auth`) are read only when named here.
   */
  schemas: ReadonlySet<string>;
}

/** Input of {@link ResourceHandler.desired}. */
export interface DesiredRequest {
  config: FluxbaseConfig;
  sources: SourceIndex;
  /** Resolved config-level `lifecycle.prevent_destroy`. */
  preventDestroyDefault: boolean;
}

/** Input of {@link ResourceHandler.plan} (pg-schema-diff's "generator" step). */
export interface PlanRequest {
  change: ResourceChange;
  desired?: DesiredResource;
  live?: LiveResource;
  /** Results of the handler's probe (see {@link ResourceHandler.probe}), when it ran. */
  capabilities?: Record<string, boolean>;
  /** Which identities the credentials can act as. */
  identities: { user: boolean; serviceRole: boolean };
  /**
   * Addresses created by this same plan. A change to something that does not exist yet exposes
   * no existing data (e.g. a permissive policy on a new table is not an AUTHZ_CHANGE hazard).
   */
  creating: ReadonlySet<string>;
  /** `migrations.lock_timeout` of the configuration (default 3s): every migration starts with SET LOCAL lock_timeout. */
  lockTimeout?: string;
}

/** Output of {@link ResourceHandler.plan}. */
export interface PlanResult {
  hazards?: Hazard[];
  /** Migration SQL the change will run, shown in the plan and executed verbatim. */
  sql?: string[];
  steps?: PlannedStep[];
  diagnostics?: Diagnostic[];
  /**
   * Attribute paths whose change cannot be made in place (e.g. ALTER POLICY cannot remove an
   * expression): the engine marks them `# forces replacement`, turns the update into a replace
   * and calls plan() again for the replacement.
   */
  requiresReplace?: string[][];
  /**
   * Attribute changes that cannot be applied on this server (e.g. a setting locked by a FLUXBASE_*
   * environment variable): the engine drops them from the change (a change left with none becomes
   * a no-op) and reports the diagnostics, so they are not retried forever.
   */
  drop?: string[][];
}

/** Input of {@link ResourceHandler.renameInside}. */
export interface RenameInsideRequest {
  desired: DesiredResource;
  /** The live resource under the desired address (after a rename of the resource itself). */
  live: LiveResource;
  /** Live resources inside it (`parent` is its address), e.g. a table's policies. */
  children: readonly LiveResource[];
}

/** Output of {@link ResourceHandler.renameInside}. */
export interface RenameInsideResult {
  /** The live resource as it reads once the renames are made (e.g. columns under their new names). */
  live: LiveResource;
  /** The children as they read once the renames are made (PostgreSQL rewrites policy expressions). */
  children: LiveResource[];
  /** One attribute change per rename, shown in the plan (`columns.title.name: "headline" -> "title"`). */
  attributes: AttributeChange[];
  /** Renames whose source does not exist live (located errors). */
  diagnostics: Diagnostic[];
}

/** Input of {@link ResourceHandler.references}. */
export interface ReferencesRequest {
  desired: DesiredResource;
  /**
   * What will be at `address` once the plan is applied: its declaration, or the live resource
   * when it is live and the plan does not delete it; undefined when nothing will be there.
   */
  after(address: string): { declared?: DesiredResource; live?: LiveResource } | undefined;
}

/** Input of {@link ResourceHandler.preflight}. */
export interface PreflightRequest {
  client: FluxbaseClient;
  /** The plan's changes of this kind (no-ops and cascaded deletes left out). */
  changes: readonly ResourceChange[];
  /** The desired resources, by address. */
  desired: ReadonlyMap<string, DesiredResource>;
  /** Live tenants by slug (UUIDs for X-FB-Tenant). */
  tenants: ReadonlyMap<string, TenantRef>;
}

/** What apply passes to create/update/delete. */
export interface ApplyRequest {
  client: FluxbaseClient;
  change: ResourceChange;
  /** The desired resource (with write-only values) for creates, updates and replaces. */
  desired?: DesiredResource;
  /** The owning tenant, resolved (its UUID is known even when it was created earlier in this apply). */
  tenant?: TenantRef;
  /** Clock for migration names (injected so tests are deterministic). */
  now: () => Date;
  /**
   * Hands a value the server shows only once (a new key's) to the user, before the handler makes
   * any further call. A handler given it calls it at once and does not also return the value in
   * {@link ApplyResult.revealed}. Absent: return it there.
   */
  reveal?: (value: { name: string; value: string }) => Promise<void>;
  /** Records that `done` of `of` steps of a multi-step change finished (tables), durably. */
  progress?: (done: number, of: number) => Promise<void>;
}

/** What a successful create/update reports back. */
export interface ApplyResult {
  /** Server-side id of the resource (for id-addressed kinds). */
  id?: string;
  /** Values shown to the user once (e.g. a new key's value); never stored or logged. */
  revealed?: { name: string; value: string }[];
  warnings?: Diagnostic[];
}

/** Input of {@link ResourceHandler.toSpec}. */
export interface ToSpecRequest {
  live: LiveResource;
  /** The live resources inside this one (`parent` is its address), e.g. a table's policies. */
  children: readonly LiveResource[];
  /**
   * Also declare what is normally left out: Fluxbase's own objects (its tables in internal
   * schemas, e.g. auth.users) and built-in objects at their server defaults (`fluxbase export
   * --include-internal`).
   */
  includeInternal: boolean;
}

/**
 * A live resource as configuration: the inverse of {@link ResourceHandler.desired}. Loading a
 * config that holds `spec` at `path` (with the write-only values filled in) gives back a desired
 * resource whose attributes compare equal to the live ones.
 */
export interface SpecFragment {
  /** Config path of the declaration, the same path desired() reports (`['tenants','acme','webhooks','signups']`). */
  path: string[];
  /**
   * The declaration in config form, keys in the order a person would write them, defaults
   * omitted, write-only values absent. Undefined when there is nothing to declare (a built-in
   * object at its defaults, or, with `notes`, one the configuration cannot express); the path
   * then only exists when something beneath it is declared.
   */
  spec?: Record<string, unknown>;
  /**
   * Write-only attributes the declaration must carry (they cannot be read back): the attribute
   * name as in {@link ResourceHandler.writeOnly} and its path inside `spec`. The caller fills in
   * an `${env:NAME}` reference; a handler never invents a value.
   */
  writeOnly?: { attribute: string; path: string[] }[];
  /** Comments for values inside `spec` (e.g. how PostgreSQL renders a simplified expression). */
  comments?: { path: string[]; text: string }[];
  /** Live details the configuration cannot express, left out of `spec` (reported as warnings). */
  notes?: string[];
}

/** One resource kind's translation between config and API. */
export interface ResourceHandler {
  readonly kind: ResourceKind;
  /** `instance` kinds are listed once; `tenant` kinds once per tenant. */
  readonly scope: 'instance' | 'tenant';
  /** Comparison rules for attribute paths (default: deep equality, undeclared keys ignored). */
  readonly rules: readonly AttributeRule[];
  /** Attributes whose values are write-only (sent, fingerprinted, never read back or shown). */
  readonly writeOnly?: readonly string[];
  /**
   * The identity creates and updates of this kind need (client.ts `Identity`), e.g. `user` for
   * custom settings. A plan with such a change verifies that identity's login before it
   * succeeds, so a wrong password stops the plan, not an apply half-way. Default: whatever the
   * credentials are.
   */
  readonly writesAs?: Identity;

  /** The desired resources of this kind declared in a config. */
  desired(req: DesiredRequest): DesiredResource[];
  /**
   * Every live resource of this kind in the scope, with one list call per scope (this is how
   * refresh stays O(kinds × tenants), not O(resources)). Throws ApiError/NetworkError.
   */
  list(req: ListRequest): Promise<LiveResource[]>;
  /**
   * The live resource as a config declaration (`fluxbase export`; STYLE.md's toSpec). Returns
   * undefined for Fluxbase's own objects (unless `includeInternal`), which are left out silently;
   * an object the configuration cannot declare (e.g. a revoked key) comes back without `spec`
   * and with `notes` saying why, and is reported as not exported. Without toSpec, `fluxbase
   * export` cannot write this kind and reports every live resource of it as not exported.
   */
  toSpec?(req: ToSpecRequest): SpecFragment | undefined;
  /**
   * Renames the configuration declares inside one resource (`renamed_from:` on a table's
   * columns): the live resource and its children as they will read after the renames, so the
   * diff shows a rename instead of a drop and an add, and plan() can emit the rename. Called
   * before diffing, only when the resource exists live. Without it nothing inside is renamed.
   */
  renameInside?(req: RenameInsideRequest): RenameInsideResult | undefined;
  /**
   * Checks that what the resource refers to outside itself will exist once the plan is applied
   * (a foreign key's table and column, a webhook's tables), so a plan whose later step would fail
   * because of an earlier one — or because the target never existed — is refused whole, before
   * any call. Returns located errors. Without it nothing is checked.
   */
  references?(req: ReferencesRequest): Diagnostic[];
  /** Hazards, SQL and steps for a planned change. Without it a change has no hazards. */
  plan?(req: PlanRequest): PlanResult;
  /**
   * Asks the server what it can do, when a planned update of this kind depends on it (e.g.
   * whether PUT /service-keys/{id} works). Called at most once per plan, only when an update of
   * this kind is planned; the result reaches plan() as `capabilities`.
   */
  probe?(req: { client: FluxbaseClient }): Promise<Record<string, boolean>>;
  /**
   * Read-only checks of the server before an apply may start, for what the refresh cannot see
   * (e.g. a tenant slug held by a soft-deleted tenant, the types a table declares, whether a table
   * has data — Atlas' pre-migration checks). Called once per plan with this kind's planned changes
   * (never for a refresh-only plan); returns located diagnostics. Without it, nothing is checked.
   */
  preflight?(req: PreflightRequest): Promise<Diagnostic[]>;
  /** Creates the resource. If it throws, nothing was created (or the engine re-reads). */
  create(req: ApplyRequest): Promise<ApplyResult>;
  /** Updates in place. Without it every change is a replace. */
  update?(req: ApplyRequest): Promise<ApplyResult>;
  /** Deletes the resource. If it throws, the resource is assumed to still exist. */
  delete(req: ApplyRequest): Promise<void>;
}
