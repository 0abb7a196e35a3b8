/**
 * The tfplugin6 `Provider` service, implemented generically over a
 * `ProviderDefinition`. Each method takes and returns the protobufjs
 * object shape of its `<Rpc>.Request` / `<Rpc>.Response` message (bytes as
 * Buffer, enums as strings, int64 as number), so it can be driven without
 * gRPC in tests. Failures are reported as diagnostics, never as gRPC errors.
 */
import { decodeMsgpack, encodeMsgpack } from './cty/msgpack.js';
import { decodeJson } from './cty/json.js';
import type { CtyType } from './cty/types.js';
import { conform, isWhollyKnown, type ValuePath } from './cty/values.js';
import { Diagnostics, toProtoDiagnostics, type ProtoAttributePath, type ProtoDiagnostic, toProtoPath } from './diagnostics.js';
import type { CallContext, ValidateContext } from './framework.js';
import { compileProvider, type CompiledProvider, type CompiledResource } from './compile.js';
import type { Logger } from './log.js';
import { validateAttributes } from './validate.js';
import { callbackInput, checkApplied, checkPlan, forceNewPaths, markUnknownOnUpdate, mergeResult, nullWriteOnly, planObject } from './plan.js';
import { toProtoSchema, type CompiledBlock } from './schema.js';
import { PrivateBytes } from './private-state.js';

export { compileProvider, type CompiledProvider };

type Obj = Record<string, unknown>;
/** protobufjs object shape of `tfplugin6.DynamicValue`. */
export interface DynamicValue {
  msgpack?: Buffer | Uint8Array;
  json?: Buffer | Uint8Array;
}
/** Loose request shape: every request is a plain object of decoded fields. */
export type Req = Record<string, any>;

function decodeDynamic(v: DynamicValue | null | undefined, type: CtyType): unknown {
  if (!v) return null;
  if (v.msgpack && v.msgpack.length) return decodeMsgpack(v.msgpack, type);
  if (v.json && v.json.length) return decodeJson(v.json, type);
  return null;
}

const dyn = (value: unknown, type: CtyType): { msgpack: Buffer } => ({ msgpack: encodeMsgpack(value, type) });
const asObj = (v: unknown): Obj | null => (v === null || v === undefined ? null : (v as Obj));

/** Implements the Provider service over a compiled provider. */
export class ProviderServer {
  private configured: unknown = undefined;
  private stop = new AbortController();

  constructor(
    readonly provider: CompiledProvider,
    private readonly log: Logger,
  ) {}

  private validateCtx(diagnostics: Diagnostics): ValidateContext {
    return { diagnostics, log: this.log };
  }

  private callCtx(diagnostics: Diagnostics, priv: PrivateBytes = new PrivateBytes(undefined)): CallContext<unknown> {
    return { provider: this.configured, diagnostics, log: this.log, signal: this.stop.signal, private: priv };
  }

  private resource(typeName: string, diags: Diagnostics): CompiledResource | undefined {
    const r = this.provider.resources.get(typeName);
    if (!r) diags.error(`Unknown resource type ${typeName}`, `The ${this.provider.def.name} provider does not offer ${typeName}.`);
    return r;
  }

  /** Runs `fn`, turning anything thrown into an error diagnostic. */
  private async guard(diags: Diagnostics, what: string, fn: () => Promise<void> | void): Promise<void> {
    try {
      await fn();
    } catch (e) {
      this.log.debug(`${what} failed`, { error: e instanceof Error ? e.message : String(e) });
      diags.addThrown(e, what);
    }
  }

  // ---- metadata ----------------------------------------------------------

  private capabilities() {
    return { plan_destroy: true, get_provider_schema_optional: false, move_resource_state: false };
  }

  /** GetMetadata: capabilities and the type names offered. */
  GetMetadata(): Req {
    return {
      server_capabilities: this.capabilities(),
      diagnostics: [],
      resources: [...this.provider.resources.keys()].map((type_name) => ({ type_name })),
      data_sources: [...this.provider.dataSources.keys()].map((type_name) => ({ type_name })),
      functions: [],
      ephemeral_resources: [],
    };
  }

  /** GetProviderSchema: provider, resource and data source schemas. */
  GetProviderSchema(): Req {
    const resource_schemas: Record<string, unknown> = {};
    for (const [name, r] of this.provider.resources) resource_schemas[name] = toProtoSchema(r.block, r.version);
    const data_source_schemas: Record<string, unknown> = {};
    for (const [name, d] of this.provider.dataSources) data_source_schemas[name] = toProtoSchema(d.block, d.version);
    return {
      provider: toProtoSchema(this.provider.providerBlock),
      resource_schemas,
      data_source_schemas,
      functions: {},
      ephemeral_resource_schemas: {},
      diagnostics: [],
      server_capabilities: this.capabilities(),
    };
  }

  // ---- validation --------------------------------------------------------

  /** ValidateProviderConfig: attribute validators and the provider's validate hook. */
  async ValidateProviderConfig(req: Req): Promise<Req> {
    const diags = new Diagnostics();
    const block = this.provider.providerBlock;
    await this.guard(diags, 'Invalid provider configuration', async () => {
      const config = (asObj(decodeDynamic(req.config, block.type)) ?? {}) as Obj;
      validateAttributes(block, config, diags, [], true);
      await this.provider.def.validate?.(config, this.validateCtx(diags));
    });
    return { diagnostics: toProtoDiagnostics(diags.items, block.type) };
  }

  /** ValidateResourceConfig: attribute validators, write-only capability, and the resource's validate hook. */
  async ValidateResourceConfig(req: Req): Promise<Req> {
    const diags = new Diagnostics();
    const r = this.resource(req.type_name, diags);
    if (r) {
      await this.guard(diags, 'Invalid configuration', async () => {
        const config = (asObj(decodeDynamic(req.config, r.block.type)) ?? {}) as Obj;
        const woAllowed = !!req.client_capabilities?.write_only_attributes_allowed;
        validateAttributes(r.block, config, diags, [], woAllowed);
        await r.def.validate?.(config, this.validateCtx(diags));
      });
    }
    return { diagnostics: toProtoDiagnostics(diags.items, r?.block.type) };
  }

  /** ValidateDataResourceConfig: as for resources. */
  async ValidateDataResourceConfig(req: Req): Promise<Req> {
    const diags = new Diagnostics();
    const d = this.provider.dataSources.get(req.type_name);
    if (!d) diags.error(`Unknown data source ${req.type_name}`);
    else {
      await this.guard(diags, 'Invalid configuration', async () => {
        const config = (asObj(decodeDynamic(req.config, d.block.type)) ?? {}) as Obj;
        validateAttributes(d.block, config, diags, [], true);
        await d.def.validate?.(config, this.validateCtx(diags));
      });
    }
    return { diagnostics: toProtoDiagnostics(diags.items, d?.block.type) };
  }

  // ---- state -------------------------------------------------------------

  /**
   * UpgradeResourceState: parses `raw_state.json` (never msgpack), runs the
   * resource's `upgradeState` when the stored version is older, and returns
   * msgpack in the current schema (unknown keys dropped, write-only nulled).
   */
  async UpgradeResourceState(req: Req): Promise<Req> {
    const diags = new Diagnostics();
    const r = this.resource(req.type_name, diags);
    let upgraded: Req | undefined;
    if (r) {
      await this.guard(diags, 'Could not upgrade state', async () => {
        const raw = req.raw_state ?? {};
        if ((!raw.json || raw.json.length === 0) && raw.flatmap && Object.keys(raw.flatmap).length) {
          throw new Error('state in the legacy flatmap format is not supported');
        }
        const version = Number(req.version ?? 0);
        let state: unknown;
        if (version === r.version) {
          state = decodeJson(raw.json ?? Buffer.alloc(0), r.block.type);
        } else if (version < r.version && r.def.upgradeState) {
          const parsed = JSON.parse(Buffer.from(raw.json ?? []).toString('utf8') || 'null') as Obj | null;
          const out = parsed === null ? null : await r.def.upgradeState(version, parsed, this.validateCtx(diags));
          state = out === null ? null : conform(out, r.block.type, { allowUnknown: false });
        } else {
          throw new Error(`stored state has schema version ${version}; this provider reads version ${r.version}${version < r.version ? ' and has no upgradeState' : ' (written by a newer provider?)'}`);
        }
        const obj = asObj(state);
        upgraded = dyn(obj ? nullWriteOnly(r.block, obj) : null, r.block.type);
      });
    }
    return { upgraded_state: upgraded ?? null, diagnostics: toProtoDiagnostics(diags.items, r?.block.type) };
  }

  /** ConfigureProvider: decodes the config and stores what `configure` returns. */
  async ConfigureProvider(req: Req): Promise<Req> {
    const diags = new Diagnostics();
    const block = this.provider.providerBlock;
    await this.guard(diags, 'Could not configure the provider', async () => {
      const config = (asObj(decodeDynamic(req.config, block.type)) ?? {}) as Obj;
      const terraformVersion = String(req.terraform_version ?? '');
      this.log.debug('configure', { terraform_version: terraformVersion });
      if (this.provider.def.configure) {
        this.configured = await this.provider.def.configure(config, { terraformVersion, diagnostics: diags, log: this.log });
      }
    });
    return { diagnostics: toProtoDiagnostics(diags.items, block.type) };
  }

  /** ReadResource: refresh; a null result removes the object from state (drift → re-create). */
  async ReadResource(req: Req): Promise<Req> {
    const diags = new Diagnostics();
    const r = this.resource(req.type_name, diags);
    let newState: Req | undefined;
    const priv = new PrivateBytes(req.private);
    if (r) {
      await this.guard(diags, 'Could not read the resource', async () => {
        const current = asObj(decodeDynamic(req.current_state, r.block.type));
        if (!current) {
          newState = dyn(null, r.block.type);
          return;
        }
        const result = await r.def.read(current, this.callCtx(diags, priv));
        newState = dyn(result === null ? null : nullWriteOnly(r.block, mergeResult(r.block, current, result)), r.block.type);
      });
      if (!newState) newState = req.current_state; // keep what we had on error
    }
    return { new_state: newState ?? null, diagnostics: toProtoDiagnostics(diags.items, r?.block.type), private: priv.bytes() };
  }

  /** PlanResourceChange: the generic rules (plan.ts), then `modifyPlan`, then a rule check. */
  async PlanResourceChange(req: Req): Promise<Req> {
    const diags = new Diagnostics();
    const r = this.resource(req.type_name, diags);
    let planned: Req | undefined;
    const requiresReplace: ProtoAttributePath[] = [];
    const priv = new PrivateBytes(req.prior_private);
    if (r) {
      await this.guard(diags, 'Could not plan the change', async () => {
        const type = r.block.type;
        const prior = asObj(decodeDynamic(req.prior_state, type));
        const proposed = asObj(decodeDynamic(req.proposed_new_state, type));
        const config = asObj(decodeDynamic(req.config, type));
        if (!proposed || !config) {
          if (prior && r.def.planDestroy) await r.def.planDestroy(prior, this.callCtx(diags, priv));
          if (diags.hasErrors) return;
          planned = dyn(null, type); // destroy
          return;
        }
        let plan = planObject(r.block, prior, config, proposed);
        plan = markUnknownOnUpdate(r.block, prior, config, plan);
        const extraReplace: ValuePath[] = [];
        if (r.def.modifyPlan) {
          const ctx = { ...this.callCtx(diags, priv), requireReplace: (p: ValuePath) => void extraReplace.push(p) };
          const out = await r.def.modifyPlan({ prior, config, planned: { ...plan } }, ctx);
          if (out) plan = conform(out, type, { rejectExtraAttributes: true }) as Obj;
        }
        const problems = checkPlan(r.block, prior, config, plan);
        for (const d of problems) diags.error(d.summary, d.detail, d.path);
        if (problems.length) return;
        if (prior) for (const p of [...forceNewPaths(r.block, prior, plan), ...extraReplace]) requiresReplace.push(toProtoPath(p, type));
        planned = dyn(plan, type);
      });
    }
    return {
      planned_state: planned ?? null,
      requires_replace: requiresReplace,
      planned_private: priv.bytes(),
      diagnostics: toProtoDiagnostics(diags.items, r?.block.type),
    };
  }

  /**
   * ApplyResourceChange: create (no prior), delete (no planned) or update.
   * On a failed create nothing is stored; on a failed update/delete the
   * prior state is kept.
   */
  async ApplyResourceChange(req: Req): Promise<Req> {
    const diags = new Diagnostics();
    const r = this.resource(req.type_name, diags);
    let newState: unknown = undefined;
    const priv = new PrivateBytes(req.planned_private);
    if (r) {
      const type = r.block.type;
      let prior: Obj | null = null;
      await this.guard(diags, 'Could not apply the change', async () => {
        prior = asObj(decodeDynamic(req.prior_state, type));
        const planned = asObj(decodeDynamic(req.planned_state, type));
        const config = asObj(decodeDynamic(req.config, type));
        const ctx = this.callCtx(diags, priv);
        if (!planned) {
          if (prior) await r.def.delete(prior, ctx);
          newState = null;
          return;
        }
        const input = callbackInput(r.block, planned, config);
        let result: unknown;
        let what: string;
        if (!prior) {
          what = 'create';
          result = await r.def.create(input, ctx);
        } else {
          if (!r.def.update) throw new Error(`${r.def.typeName} cannot be updated in place`);
          what = 'update';
          result = (await r.def.update(input, prior, ctx)) ?? {};
        }
        const applied = nullWriteOnly(r.block, mergeResult(r.block, planned, result));
        newState = applied; // stored even if inconsistent (Terraform taints it)
        for (const d of checkApplied(planned, applied, type)) diags.error(d.summary, `${d.detail} (returned by ${what})`, d.path);
      });
      if (newState === undefined) newState = prior; // failure: create → null, update/delete → unchanged
    }
    let encoded: Req | null = null;
    if (r) {
      try {
        encoded = dyn(newState, r.block.type);
      } catch (e) {
        diags.addThrown(e, 'Could not encode the new state');
        encoded = dyn(null, r.block.type);
      }
    }
    return { new_state: encoded, private: priv.bytes(), diagnostics: toProtoDiagnostics(diags.items, r?.block.type) };
  }

  /** ImportResourceState: `importState(id)` (default `{ id }`); Terraform reads the object next. */
  async ImportResourceState(req: Req): Promise<Req> {
    const diags = new Diagnostics();
    const r = this.resource(req.type_name, diags);
    const imported: Req[] = [];
    if (r) {
      await this.guard(diags, 'Could not import', async () => {
        const id = String(req.id ?? '');
        let partial: unknown;
        const priv = new PrivateBytes(undefined);
        if (r.def.importState) partial = await r.def.importState(id, this.callCtx(diags, priv));
        else if (r.block.attributes.some((a) => a.name === 'id')) partial = { id };
        else throw new Error(`${r.def.typeName} does not support import`);
        if (partial === null || partial === undefined) {
          diags.error('Cannot import non-existent remote object', `No ${r.def.typeName} has the id ${JSON.stringify(id)}.`);
          return;
        }
        const state = nullWriteOnly(r.block, mergeResult(r.block, {}, partial));
        imported.push({ type_name: r.def.typeName, state: dyn(state, r.block.type), private: priv.bytes() });
      });
    }
    return { imported_resources: imported, diagnostics: toProtoDiagnostics(diags.items, r?.block.type) };
  }

  /** MoveResourceState: not offered (the capability is off). */
  MoveResourceState(req: Req): Req {
    return { diagnostics: [err('Moving resources between types is not supported', `${req.source_type_name} → ${req.target_type_name}`)] };
  }

  /** ReadDataSource: `read(config)` merged over the config; must be wholly known. */
  async ReadDataSource(req: Req): Promise<Req> {
    const diags = new Diagnostics();
    const d = this.provider.dataSources.get(req.type_name);
    let state: Req | undefined;
    if (!d) diags.error(`Unknown data source ${req.type_name}`);
    else {
      await this.guard(diags, 'Could not read the data source', async () => {
        const config = (asObj(decodeDynamic(req.config, d.block.type)) ?? {}) as Obj;
        const result = await d.def.read(config, this.callCtx(diags));
        const merged = mergeResult(d.block, config, result);
        if (!isWhollyKnown(merged)) throw new Error('read left some attributes unknown');
        state = dyn(merged, d.block.type);
      });
    }
    return { state: state ?? null, diagnostics: toProtoDiagnostics(diags.items, d?.block.type) };
  }

  /** GetFunctions: none. */
  GetFunctions(): Req {
    return { functions: {}, diagnostics: [] };
  }

  /** CallFunction: no functions exist. */
  CallFunction(req: Req): Req {
    return { error: { text: `the provider has no function ${JSON.stringify(req.name)}` } };
  }

  /** Ephemeral resources: none; every ephemeral RPC answers with an error diagnostic. */
  Ephemeral(req: Req): Req {
    return { diagnostics: [err('Ephemeral resources are not supported', `${req.type_name} is not offered by this provider.`)] };
  }

  /** StopProvider: aborts `ctx.signal` for running callbacks. */
  StopProvider(): Req {
    this.log.info('stop requested');
    this.stop.abort(new Error('Terraform asked the provider to stop'));
    this.stop = new AbortController();
    return { Error: '' };
  }
}

function err(summary: string, detail: string): ProtoDiagnostic {
  return { severity: 'ERROR', summary, detail };
}
