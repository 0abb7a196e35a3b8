/**
 * The provider framework's public API: declare a provider and its resources
 * as plain TypeScript; `serve()` (serve.ts) speaks the protocol.
 *
 * ```ts
 * const note = defineResource<Note, Client>({
 *   typeName: 'example_note',
 *   schema: { version: 0, attributes: {
 *     id: { type: t.string, computed: true },
 *     title: { type: t.string, required: true },
 *     slug: { type: t.string, required: true, forceNew: true },
 *   } },
 *   create: (plan, ctx) => ctx.provider.insert(plan),   // returns { id, … }
 *   read: (state, ctx) => ctx.provider.get(state.id),   // null ⇒ gone
 *   update: (plan, prior, ctx) => ctx.provider.put(plan),
 *   delete: (state, ctx) => ctx.provider.remove(state.id),
 * });
 * serve(defineProvider({ name: 'example', resources: [note], configure: (cfg) => new Client(cfg) }));
 * ```
 *
 * Values are plain JS (see cty/values.ts): null for null, `Unknown` for
 * "known after apply" (only ever seen by `validate` and `modifyPlan`).
 * Callbacks may be sync or async; throwing fails the operation with an
 * error diagnostic (`DiagnosticError` carries an attribute path).
 */
import type { Diagnostics } from './diagnostics.js';
import type { Logger } from './log.js';
import type { BlockSpec, ResourceSchemaSpec } from './schema.js';
import type { Unknown, ValuePath } from './cty/values.js';
import type { PrivateState } from './private-state.js';

type MaybePromise<T> = T | Promise<T>;

/** Any attribute may be unknown while planning. */
export type Planned<S> = { [K in keyof S]: S[K] | Unknown };

/** What every callback gets. `provider` is what `configure` returned. */
export interface CallContext<P> {
  provider: P;
  diagnostics: Diagnostics;
  log: Logger;
  /** Aborted when Terraform sends StopProvider (Ctrl-C); long operations should give up. */
  signal: AbortSignal;
  /**
   * The resource's private state (see private-state.ts): read, plan, apply and import callbacks
   * can keep provider-only facts beside the state. Empty elsewhere.
   */
  private: PrivateState;
}

/** Context of `modifyPlan`. */
export interface PlanContext<P> extends CallContext<P> {
  /** Ask for replacement because of a change at `path` (in addition to forceNew attributes). */
  requireReplace(path: ValuePath): void;
}

/** Context of `validate` hooks (the provider is not configured yet). */
export interface ValidateContext {
  diagnostics: Diagnostics;
  log: Logger;
}

/**
 * A managed resource type. `S` is the shape of its state (attribute name →
 * value); `P` the configured provider's client.
 *
 * Results of create/update/read/importState are partial: an attribute left
 * `undefined` keeps the planned value (create/update), the prior value
 * (read) or null (importState). Attributes the schema does not declare are
 * an error.
 */
export interface ResourceDefinition<S extends object = Record<string, any>, P = any> {
  /** `<provider>_<name>`, e.g. `fluxbase_table`. */
  typeName: string;
  schema: ResourceSchemaSpec;
  /**
   * Create the object. `plan` holds configured values, defaults, write-only
   * values from config, and null for computed attributes Terraform is
   * waiting for: return those (e.g. `{ id }`).
   */
  create(plan: S, ctx: CallContext<P>): MaybePromise<Partial<S>>;
  /** Refresh from the real object. Return null if it no longer exists (Terraform then plans to re-create it). */
  read(state: S, ctx: CallContext<P>): MaybePromise<Partial<S> | null>;
  /** Update in place. Omit only if every configurable attribute is forceNew. `plan` is as in create. */
  update?(plan: S, prior: S, ctx: CallContext<P>): MaybePromise<Partial<S> | void>;
  delete(state: S, ctx: CallContext<P>): MaybePromise<void>;
  /**
   * `terraform import` / `import {}`: turn the user's id into a (partial)
   * state that `read` can refresh, or null if nothing has that id. Default:
   * `{ id }` when the schema has an `id` attribute; otherwise import is
   * unsupported.
   */
  importState?(id: string, ctx: CallContext<P>): MaybePromise<Partial<S> | null>;
  /**
   * Adjust the plan computed by the generic rules (see plan.ts). `planned`
   * may be modified and returned; it is checked against the rules again.
   * Not called for destroy.
   */
  modifyPlan?(req: { prior: S | null; config: Planned<S>; planned: Planned<S> }, ctx: PlanContext<P>): MaybePromise<Planned<S> | void>;
  /**
   * Checks a planned destroy (the resource was removed from the configuration, or `terraform
   * destroy`): diagnostics only, an error stops the plan. Without it a destroy is never refused.
   */
  planDestroy?(prior: S, ctx: CallContext<P>): MaybePromise<void>;
  /** Cross-attribute validation; `config` may contain unknowns. Report with `ctx.diagnostics` or throw. */
  validate?(config: Planned<S>, ctx: ValidateContext): MaybePromise<void>;
  /**
   * Migrate stored state written with an older `schema.version`. `raw` is the
   * state JSON as stored; return it in the current shape (unknown keys are
   * dropped, missing ones become null).
   */
  upgradeState?(fromVersion: number, raw: Record<string, unknown>, ctx: ValidateContext): MaybePromise<Record<string, unknown>>;
}

/** A data source: `read` gets the (wholly known) config and returns computed attributes. */
export interface DataSourceDefinition<S extends object = Record<string, any>, P = any> {
  typeName: string;
  schema: ResourceSchemaSpec;
  read(config: S, ctx: CallContext<P>): MaybePromise<Partial<S>>;
  validate?(config: Planned<S>, ctx: ValidateContext): MaybePromise<void>;
}

/** A provider. `P` is what `configure` returns, handed to every resource callback as `ctx.provider`. */
export interface ProviderDefinition<P = any> {
  /** Local name and resource type prefix, e.g. `fluxbase`. */
  name: string;
  /** Full source address, used in debug (reattach) mode. Default `registry.terraform.io/<name>/<name>`. */
  address?: string;
  /** Shown in logs. */
  version?: string;
  /** The `provider "<name>" { … }` block. Default: empty. */
  schema?: BlockSpec;
  validate?(config: Record<string, any>, ctx: ValidateContext): MaybePromise<void>;
  /** Called once per process (ConfigureProvider) before any resource callback. Config may contain unknowns. */
  configure?(config: Record<string, any>, ctx: { terraformVersion: string; diagnostics: Diagnostics; log: Logger }): MaybePromise<P>;
  resources: readonly ResourceDefinition<any, P>[];
  dataSources?: readonly DataSourceDefinition<any, P>[];
}

/** Identity helper that gives `S`/`P` inference and editor help for a resource. */
export function defineResource<S extends object = Record<string, any>, P = any>(def: ResourceDefinition<S, P>): ResourceDefinition<S, P> {
  return def;
}

/** Identity helper for data sources. */
export function defineDataSource<S extends object = Record<string, any>, P = any>(def: DataSourceDefinition<S, P>): DataSourceDefinition<S, P> {
  return def;
}

/** Identity helper for providers (the schema is checked when served, or by `compileProvider`). */
export function defineProvider<P = any>(def: ProviderDefinition<P>): ProviderDefinition<P> {
  return def;
}
