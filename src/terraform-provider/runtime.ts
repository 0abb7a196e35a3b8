/**
 * What the provider does for each resource operation, with the same pieces `fluxbase plan` and
 * `fluxbase apply` use: the handler's `desired()` on a one-resource config built from the
 * Terraform object, its `list()` (cached, live-cache.ts) for the live side, `diffAttributes` and
 * the handler's `plan()` through engine/change.ts, and the handler's create/update/delete for
 * every API call. Loaded lazily (provider.ts) so that the provider answers its handshake and
 * schema requests without loading the engine.
 */
import { FluxbaseClient } from '../client/http.js';
import { ApiError, NetworkError } from '../client/errors.js';
import type { Diagnostic as FluxbaseDiagnostic } from '../diag/index.js';
import { createChange, deleteChange, finishChange, updateChange, type FinishContext } from '../engine/change.js';
import { diffAttributes, observedRenderings } from '../engine/diff.js';
import { SourceIndex } from '../engine/source-index.js';
import { semanticDiagnostics } from '../engine/validate-semantics.js';
import type { AttributeChange, ResourceChange } from '../model/plan.js';
import type { DesiredResource, LiveResource, ResourceKind, TenantRef } from '../model/resource.js';
import { handlerFor } from '../resources/index.js';
import { parseAddress } from '../model/address.js';
import type { ApplyResult } from '../resources/types.js';
import { loadSqlParser } from '../sql/parser.js';
import { DiagnosticError, isWhollyKnown, type CallContext, type PlanContext, type Planned } from '../terraform/index.js';
import { addressOf, bodyFromTerraform, documentFor, identityAttrs, identityOf, importId, parseImportId, terraformFromBody, unsetFromLive } from './codec.js';
import { LiveCache } from './live-cache.js';
import type { FluxbaseConfig } from '../model/config.generated.js';
import type { ResourceModel } from './model.js';
import { applyDrift, bodyPathOf, diagnosticPath, keepUnchanged, liveBody, terraformAttrsOf } from './reconcile.js';

type Obj = Record<string, unknown>;

/** Connection settings (provider block with environment fallbacks applied). */
export interface ConnectionSettings {
  url: string;
  token?: string;
  email?: string;
  password?: string;
  /**
   * Hazard types a plan may carry (provider `allow_hazards`, FLUXBASE_ALLOW_HAZARDS). A planned
   * change with any other hazard is an error diagnostic, so `terraform plan`/`apply` stop, as
   * `fluxbase apply` refuses without `--allow-hazards`.
   */
  allowHazards?: string[];
}

/** Where a resource is: its identity values, engine address, tenant and schema. */
interface Located {
  identity: string[];
  address: string;
  tenant?: string;
  schema?: string;
}

/** One configured provider: an API client, the live cache and probe results. */
export class FluxbaseRuntime {
  readonly client: FluxbaseClient;
  readonly cache: LiveCache;
  private readonly probes = new Map<ResourceKind, Promise<Record<string, boolean>>>();
  /**
   * Addresses this Terraform state holds (seen in a refresh or in a plan with a prior state).
   * Terraform plans a replacement's create with no prior state; for these addresses the object
   * found live is the one being replaced, not a conflict.
   */
  private readonly inState = new Set<string>();
  /** Addresses this process created: Terraform plans a dependant again after creating them, in the same walk. */
  private readonly created = new Set<string>();

  constructor(private readonly settings: ConnectionSettings) {
    // preferToken: the server rate-limits admin logins (10 a minute) and Terraform starts the
    // provider several times per command, so log in only for calls that need a user.
    this.client = new FluxbaseClient({ url: settings.url, credentials: { token: settings.token, email: settings.email, password: settings.password }, preferToken: true });
    this.cache = new LiveCache(this.client);
  }

  /** Forgets everything read (a new Terraform command on the same process, in debug mode); keeps the login. */
  reset(): void {
    this.cache.clear();
    this.probes.clear();
    this.inState.clear();
    this.created.clear();
  }

  private locate(model: ResourceModel, obj: Obj): Located {
    const identity = identityOf(model, obj);
    if (!identity) throw new DiagnosticError('The resource identity is not known', { detail: `${model.info.identity.join(', ')} must be known.` });
    return this.locateIdentity(model, identity);
  }

  private locateIdentity(model: ResourceModel, identity: string[]): Located {
    const scoped = model.info.pattern[0] === 'tenants';
    return {
      identity,
      address: addressOf(model, identity),
      ...(scoped ? { tenant: identity[0] } : {}),
      ...(model.info.kind === 'table' || model.info.kind === 'policy' || model.info.kind === 'schema' ? { schema: identity[1] } : {}),
    };
  }

  private live(model: ResourceModel, at: Located): Promise<LiveResource | undefined> {
    return this.cache.find(model.info.kind, at.address, at.tenant, at.schema).catch((e: unknown) => {
      throw apiError(e, `Could not read ${at.address}`);
    });
  }

  /** The desired resource for a Terraform object (`writeOnly`: write-only values from the configuration). */
  private desired(model: ResourceModel, obj: Obj, at: Located, writeOnly: Obj = {}): DesiredResource {
    return this.desiredIn(model, at, this.document(model, obj, at, writeOnly));
  }

  /** The one-resource configuration document for a Terraform object. */
  private document(model: ResourceModel, obj: Obj, at: Located, writeOnly: Obj): FluxbaseConfig {
    return documentFor(model, at.identity, bodyFromTerraform(model, obj, writeOnly));
  }

  /** The desired resource the handler declares at `at` in `config` (a one-resource document). */
  private desiredIn(model: ResourceModel, at: Located, config: FluxbaseConfig): DesiredResource {
    const found = handlerFor(model.info.kind)
      .desired({ config, sources: new SourceIndex('terraform'), preventDestroyDefault: false })
      .find((r) => r.address === at.address);
    if (!found) throw new Error(`${model.info.typeName}: the handler declared nothing at ${at.address}`);
    return found;
  }

  private context(): FinishContext {
    return { creating: new Set(), identities: this.client.identities(), capabilities: {} };
  }

  /**
   * Tables this resource depends on that do not exist on the server, or that this apply created:
   * a policy on one exposes no existing data (PlanRequest.creating).
   */
  private async missingTables(d: DesiredResource): Promise<Set<string>> {
    const out = new Set<string>();
    for (const dep of d.dependsOn) {
      const parsed = parseAddress(dep);
      if (parsed?.kind !== 'table') continue;
      const [tenant, schema] = parsed.segments;
      if (this.created.has(dep) || !(await this.cache.find('table', dep, tenant, schema).catch(() => undefined))) out.add(dep);
    }
    return out;
  }

  private async capabilities(kind: ResourceKind): Promise<Partial<Record<ResourceKind, Record<string, boolean>>>> {
    const handler = handlerFor(kind);
    if (!handler.probe) return {};
    let p = this.probes.get(kind);
    if (!p) {
      p = handler.probe({ client: this.client });
      this.probes.set(kind, p);
    }
    return { [kind]: await p };
  }

  /** Write-only changes decided the Terraform way: on create, when `*_wo_version` changes, or when the server lacks the value. */
  private writeOnlyChanges(model: ResourceModel, d: DesiredResource, prior: Obj | null, planned: Obj, live?: LiveResource): AttributeChange[] {
    const out: AttributeChange[] = [];
    for (const w of model.writeOnly) {
      const name = w.path.join('.');
      if (!(name in d.writeOnly)) continue;
      const declared = d.writeOnly[name] !== null && d.writeOnly[name] !== undefined;
      if (!prior) {
        if (declared) out.push({ path: [name], after: { sensitive: true }, sensitive: true });
        continue;
      }
      const bumped = (planned[w.versionName] ?? null) !== (prior[w.versionName] ?? null);
      const missing = declared && live?.writeOnlyPresent?.[name] === false;
      if (bumped || missing) out.push({ path: [name], before: { sensitive: true }, ...(declared ? { after: { sensitive: true } } : {}), sensitive: true });
    }
    return out;
  }

  /**
   * Reports engine diagnostics (errors fail the operation) and a planned change's hazards: a
   * warning when `allow_hazards` names its type, else an error, so nothing is applied.
   */
  private report(ctx: CallContext<unknown>, model: ResourceModel, diagnostics: FluxbaseDiagnostic[], change?: ResourceChange): void {
    for (const d of diagnostics) {
      const path = d.path ? diagnosticPath(model, d.path) : undefined;
      if (d.severity === 'error') ctx.diagnostics.error(d.summary, d.detail, path);
      else ctx.diagnostics.warning(d.summary, d.detail, path);
    }
    const allowed = new Set(this.settings.allowHazards ?? []);
    for (const h of change?.hazards ?? []) {
      if (allowed.has(h.type)) ctx.diagnostics.warning(`${h.type}: ${change!.address}`, h.message);
      else {
        ctx.diagnostics.error(
          `${h.type}: ${change!.address}`,
          `${h.message} This hazard is not allowed, so nothing is applied. Review the change, then allow it with allow_hazards = ["${h.type}"] in the provider "fluxbase" block, or FLUXBASE_ALLOW_HAZARDS=${h.type}.`,
        );
      }
    }
  }

  /** PlanResourceChange of a destroy: the delete's hazards (a table's data, a policy's access), gated as above. */
  async planDestroy(model: ResourceModel, prior: Obj, ctx: CallContext<unknown>): Promise<void> {
    const at = this.locate(model, prior);
    await loadSqlParser();
    const live = await this.live(model, at);
    if (!live || (live.builtin && (model.info.kind === 'tenant' || model.info.kind === 'schema'))) return;
    const change = deleteChange(live);
    const diagnostics: FluxbaseDiagnostic[] = [];
    finishChange(change, undefined, live, this.context(), diagnostics);
    this.report(ctx, model, diagnostics.filter((d) => d.severity !== 'error'), change);
  }

  /** Unset "not managed" attributes of an applied object, from the server. */
  private filled(model: ResourceModel, plan: Obj, live?: LiveResource): Obj {
    return live ? unsetFromLive(model.fields.attrs, plan, terraformFromBody(model, liveBody(model.info.kind, live))) : {};
  }

  private computed(model: ResourceModel, at: Located, live?: LiveResource, result?: ApplyResult): Obj {
    const out: Obj = { id: importId(model, at.identity) };
    if (model.info.serverId) out.server_id = result?.id ?? live?.id ?? null;
    return out;
  }

  // ---- Read -------------------------------------------------------------

  /**
   * The PostgreSQL renderings recorded in the resource's private state after the last apply
   * (engine/diff.ts `observed`): the fallback for SQL the syntax-tree comparison cannot prove
   * equal, as the CLI keeps them in its state.
   */
  private observed(ctx: CallContext<unknown>): Record<string, { desired: string; live: string }> | undefined {
    return ctx.private.get()?.observed as Record<string, { desired: string; live: string }> | undefined;
  }

  /** After a write: records how PostgreSQL rendered each SQL attribute that differs from its declaration. */
  private recordObserved(model: ResourceModel, ctx: CallContext<unknown>, d: DesiredResource, live: LiveResource | undefined): void {
    const rules = handlerFor(model.info.kind).rules;
    if (!live || !rules.some((r) => r.compare === 'sql')) return;
    const observed = observedRenderings(d.attrs, live.attrs, rules);
    ctx.private.set(Object.keys(observed).length > 0 ? { observed } : undefined);
  }

  /** ReadResource: null when gone (or revoked); otherwise the state with drift written in. */
  async read(model: ResourceModel, state: Obj, ctx: CallContext<unknown>): Promise<Obj | null> {
    const at = this.locate(model, state);
    this.inState.add(at.address);
    const live = await this.live(model, at);
    if (!live || live.attrs.revoked === true) return null;
    ambiguity(live);
    // A secret setting's value is write-only, so the state does not show that it is one: say so.
    const placeholders = model.info.kind === 'custom_setting' && state.value === null && live.attrs.secret === true ? { secret_wo: '(write-only)' } : {};
    const d = this.desired(model, state, at, placeholders);
    await loadSqlParser();
    const changes = diffAttributes({ desired: d.attrs, live: live.attrs, rules: handlerFor(model.info.kind).rules, observed: this.observed(ctx) });
    const next = changes.length > 0 ? applyDrift(model, state, changes, live) : { ...state };
    for (const w of model.writeOnly) {
      // The server lost a write-only value this state says was sent: make the version differ so the next plan re-sends it.
      if (live.writeOnlyPresent?.[w.path.join('.')] === false && state[w.versionName] !== undefined) next[w.versionName] = -1;
    }
    return { ...next, ...this.computed(model, at, live), ...(model.info.serverId && !live.id ? { server_id: state.server_id ?? null } : {}) };
  }

  // ---- Plan -------------------------------------------------------------

  /**
   * PlanResourceChange: the engine's decision for this resource — create conflicts, update vs
   * replace (the handler's replace rules and requiresReplace), changes the server cannot make
   * (dropped with a warning), semantic equality (unchanged attributes keep their prior value),
   * config checks and hazards (warnings).
   */
  async plan(model: ResourceModel, req: { prior: Obj | null; config: Planned<Obj>; planned: Planned<Obj> }, ctx: PlanContext<unknown>): Promise<Planned<Obj>> {
    const planned = { ...req.planned };
    const identity = identityOf(model, planned as Obj);
    if (identity) planned.id = importId(model, identity);
    if (!identity || !isWhollyKnown(req.config)) return planned;
    const at = this.locateIdentity(model, identity);
    const config = req.config as Obj;
    const doc = this.document(model, config, at, config);
    const d = this.desiredIn(model, at, doc);
    await loadSqlParser();
    this.validate(model, ctx, at, doc);
    if (ctx.diagnostics.hasErrors) return planned;
    const live = await this.live(model, at);
    const diagnostics: FluxbaseDiagnostic[] = [];
    if (req.prior) this.inState.add(at.address);
    if (!req.prior) {
      if (live && !(d.builtin || live.builtin || d.external) && !this.inState.has(at.address)) {
        ctx.diagnostics.error(
          `${at.address} already exists on the server`,
          `It was created outside this Terraform configuration. Import it with \`terraform import <address> ${importId(model, identity)}\` (or an import block with id = "${importId(model, identity)}"), or choose another name.`,
        );
        return planned;
      }
      const adopt = live && (d.builtin || live.builtin || d.external);
      const change = adopt ? updateChange(d, live, this.writeOnlyChanges(model, d, null, config, live)) : createChange(d, this.writeOnlyChanges(model, d, null, config));
      if (!live && d.builtin && !(at.tenant && model.info.kind !== 'tenant' && !(await this.cache.tenant(at.tenant)))) {
        // (Built-in objects of a tenant that does not exist yet come with it.)
        ctx.diagnostics.error(`built-in ${model.info.kind} ${at.address} does not exist on the server`);
        return planned;
      }
      finishChange(change, d, adopt ? live : undefined, { ...this.context(), creating: await this.missingTables(d) }, diagnostics);
      this.report(ctx, model, diagnostics, change);
      return planned;
    }
    if (!live) return planned; // deleted outside Terraform and not refreshed: apply re-checks
    ambiguity(live);
    const change = updateChange(d, live, this.writeOnlyChanges(model, d, req.prior, config, live), this.observed(ctx));
    const context = this.context();
    if (change.action === 'update') context.capabilities = await this.capabilities(model.info.kind);
    finishChange(change, d, live, context, diagnostics);
    this.report(ctx, model, diagnostics, change);
    const touched = change.attributes.map((a) => bodyPathOf(model.info.kind, a.path) ?? a.path);
    const out = keepUnchanged(model, req.prior, planned as Obj, touched);
    if (change.action === 'replace') {
      const differs = (name: string) => JSON.stringify(out[name] ?? null) !== JSON.stringify(req.prior![name] ?? null);
      const forcing = change.attributes.filter((a) => a.forcesReplacement).flatMap((a) => terraformAttrsOf(model, a.path));
      const candidates = [...forcing, ...change.attributes.flatMap((a) => terraformAttrsOf(model, a.path))];
      const name = candidates.find(differs);
      if (name) ctx.requireReplace([name]);
      else ctx.diagnostics.warning(`${at.address} needs to be replaced`, 'The server cannot make this change in place, but no Terraform attribute changed; taint it (terraform apply -replace=…) to replace it.');
    }
    return out;
  }

  /** The config checks `fluxbase validate` makes beyond the schema (SQL syntax, reserved names, …) for this resource. */
  private validate(model: ResourceModel, ctx: CallContext<unknown>, at: Located, doc: FluxbaseConfig): void {
    const prefix = model.info.pattern.map((seg, i) => (seg === '*' ? at.identity[model.info.pattern.slice(0, i).filter((s) => s === '*').length]! : seg));
    const diags = semanticDiagnostics({ file: 'terraform', config: doc, sources: new SourceIndex('terraform') }).filter((d) => {
      const p = (d.path ?? []).map(String);
      return p.length >= prefix.length && prefix.every((seg, i) => p[i] === seg);
    });
    this.report(ctx, model, diags);
  }

  // ---- Apply ------------------------------------------------------------

  private async tenantOf(model: ResourceModel, at: Located): Promise<TenantRef | undefined> {
    if (!at.tenant || model.info.kind === 'tenant') return undefined;
    const ref = await this.cache.tenant(at.tenant);
    if (!ref) throw new DiagnosticError(`Tenant ${at.tenant} does not exist`, { detail: `Create it first (fluxbase_tenant with slug = "${at.tenant}"), and refer to it as fluxbase_tenant.<name>.slug so Terraform orders the two.` });
    return ref;
  }

  private async call<T>(ctx: CallContext<unknown>, what: string, fn: () => Promise<T>): Promise<T> {
    const started = performance.now();
    ctx.log.debug(`${what}: calling the handler`);
    try {
      return await fn();
    } catch (e) {
      throw apiError(e, what);
    } finally {
      ctx.log.debug(`${what}: done`, { ms: Math.round(performance.now() - started) });
    }
  }

  private settle(model: ResourceModel, at: Located): void {
    this.cache.invalidate(model.info.kind, at.tenant);
  }

  /** ApplyResourceChange (create): adopts built-ins, refuses existing objects, else the handler's create. */
  async create(model: ResourceModel, plan: Obj, ctx: CallContext<unknown>): Promise<Obj> {
    const at = this.locate(model, plan);
    const d = this.desired(model, plan, at, plan);
    await loadSqlParser();
    const live = await this.live(model, at);
    const tenant = await this.tenantOf(model, at);
    const diagnostics: FluxbaseDiagnostic[] = [];
    let result: ApplyResult = {};
    if (live) {
      if (!(d.builtin || live.builtin || d.external)) {
        throw new DiagnosticError(`${at.address} already exists on the server`, { detail: `Import it: terraform import <address> ${importId(model, at.identity)}` });
      }
      const change = updateChange(d, live, this.writeOnlyChanges(model, d, null, plan, live));
      finishChange(change, d, live, this.context(), diagnostics);
      this.report(ctx, model, diagnostics);
      failOnErrors(ctx);
      if (change.action === 'replace') throw new DiagnosticError(`${at.address} cannot be adopted as declared`, { detail: change.attributes.map((a) => a.path.join('.')).join(', ') });
      if (change.action === 'update') result = await this.call(ctx, `update ${at.address}`, () => handlerFor(model.info.kind).update!({ client: this.client, change, desired: d, tenant, now: () => new Date() }));
    } else {
      const change = createChange(d, this.writeOnlyChanges(model, d, null, plan));
      finishChange(change, d, undefined, this.context(), diagnostics);
      this.report(ctx, model, diagnostics);
      failOnErrors(ctx);
      result = await this.call(ctx, `create ${at.address}`, () => handlerFor(model.info.kind).create({ client: this.client, change, desired: d, tenant, now: () => new Date() }));
      this.created.add(at.address);
    }
    this.settle(model, at);
    for (const w of result.warnings ?? []) ctx.diagnostics.warning(w.summary, w.detail);
    const after = await this.live(model, at);
    this.recordObserved(model, ctx, d, after);
    const out = { ...this.filled(model, plan, after), ...this.computed(model, at, after, result) };
    if (model.info.key) out.key = result.revealed?.[0]?.value ?? null;
    return out;
  }

  /** ApplyResourceChange (update): the engine's change against live state, through the handler's update. */
  async update(model: ResourceModel, plan: Obj, prior: Obj, ctx: CallContext<unknown>): Promise<Obj> {
    const at = this.locate(model, plan);
    const d = this.desired(model, plan, at, plan);
    await loadSqlParser();
    const live = await this.live(model, at);
    if (!live) throw new DiagnosticError(`${at.address} no longer exists on the server`, { detail: 'It was deleted outside Terraform. Run terraform apply again: the refresh notices and plans to create it.' });
    const tenant = await this.tenantOf(model, at);
    const change = updateChange(d, live, this.writeOnlyChanges(model, d, prior, plan, live), this.observed(ctx));
    const context = this.context();
    if (change.action === 'update') context.capabilities = await this.capabilities(model.info.kind);
    const diagnostics: FluxbaseDiagnostic[] = [];
    finishChange(change, d, live, context, diagnostics);
    this.report(ctx, model, diagnostics);
    failOnErrors(ctx);
    if (change.action === 'replace') {
      throw new DiagnosticError(`${at.address} must be replaced`, { detail: 'The live object changed since the plan in a way that needs a replacement. Run terraform apply again.' });
    }
    let result: ApplyResult = {};
    let after: LiveResource | undefined = live;
    if (change.action === 'update') {
      result = await this.call(ctx, `update ${at.address}`, () => handlerFor(model.info.kind).update!({ client: this.client, change, desired: d, tenant, now: () => new Date() }));
      this.settle(model, at);
      after = await this.live(model, at);
      this.recordObserved(model, ctx, d, after);
    }
    for (const w of result.warnings ?? []) ctx.diagnostics.warning(w.summary, w.detail);
    return { ...this.filled(model, plan, after), ...this.computed(model, at, live, result), ...(model.info.key ? { key: prior.key ?? null } : {}) };
  }

  /** ApplyResourceChange (delete): the handler's delete (built-in tenants and schemas are only forgotten). */
  async delete(model: ResourceModel, state: Obj, ctx: CallContext<unknown>): Promise<void> {
    const at = this.locate(model, state);
    await loadSqlParser();
    const live = await this.live(model, at);
    if (!live) return;
    if (live.builtin && (model.info.kind === 'tenant' || model.info.kind === 'schema')) {
      ctx.diagnostics.warning(`${at.address} is built in`, 'It is never deleted; it was only removed from the Terraform state.');
      return;
    }
    const tenant = await this.tenantOf(model, at);
    const change = deleteChange(live);
    const diagnostics: FluxbaseDiagnostic[] = [];
    finishChange(change, undefined, live, this.context(), diagnostics);
    this.report(ctx, model, diagnostics);
    failOnErrors(ctx);
    await this.call(ctx, `delete ${at.address}`, () => handlerFor(model.info.kind).delete({ client: this.client, change, tenant, now: () => new Date() }));
    this.settle(model, at);
  }

  /** ImportResourceState: the live object as a Terraform state (null when it does not exist). */
  async importState(model: ResourceModel, id: string): Promise<Obj | null> {
    const identity = parseImportId(model, id);
    const at = this.locateIdentity(model, identity);
    const live = await this.live(model, at);
    if (!live) return null;
    ambiguity(live);
    return { ...identityAttrs(model, identity), ...terraformFromBody(model, liveBody(model.info.kind, live)), ...this.computed(model, at, live) };
  }
}

function ambiguity(live: LiveResource): void {
  if (live.ambiguous) {
    throw new DiagnosticError(`${live.ambiguous.length} live objects are named like ${live.address}`, {
      detail: `Ids ${live.ambiguous.join(', ')}. The server does not enforce unique names here, so the provider cannot tell which one this resource manages. Delete or rename the extra ones.`,
    });
  }
}

function failOnErrors(ctx: CallContext<unknown>): void {
  if (ctx.diagnostics.hasErrors) throw new DiagnosticError('The change was not applied', { detail: 'See the other errors.' });
}

/** An API or network failure as a diagnostic (with the server's message and request id). */
function apiError(e: unknown, what: string): unknown {
  if (e instanceof ApiError || e instanceof NetworkError) return new DiagnosticError(what, { detail: e.message });
  return e;
}
