/**
 * The `fluxbase` Terraform provider (plugin protocol 6, src/terraform): the provider block and
 * one resource type per resource kind, with schemas derived from the config's JSON Schema
 * (model.ts). Every operation is delegated to {@link FluxbaseRuntime} (runtime.ts), which is
 * loaded on first use: a provider process that only answers GetProviderSchema or validation
 * never loads the engine, the HTTP client or the SQL parser.
 *
 * Provider block: `url`, `token`, `admin_email`, `admin_password`, each falling back to
 * FLUXBASE_URL, FLUXBASE_TOKEN, FLUXBASE_ADMIN_EMAIL, FLUXBASE_ADMIN_PASSWORD (the CLI's
 * variables). A token, or an admin email and password, or both, are needed. `allow_hazards`
 * (FLUXBASE_ALLOW_HAZARDS, comma-separated) names the hazard types a plan may carry: any other
 * hazard is an error diagnostic, the provider's `--allow-hazards` gate.
 */
import { DiagnosticError, defineProvider, defineResource, isUnknown, t, type ProviderDefinition, type ResourceDefinition } from '../terraform/index.js';
import { resourceModels, type ResourceModel } from './model.js';
import type { ConnectionSettings, FluxbaseRuntime } from './runtime.js';
import { VERSION } from '../version.js';
import { HAZARD_TYPES } from '../model/plan.js';

/** Source address of the provider (`source = "fluxbase/fluxbase"`). */
export const PROVIDER_ADDRESS = 'registry.terraform.io/fluxbase/fluxbase';

type Obj = Record<string, unknown>;

/** What `configure` returns: settings, and the runtime once it is needed. */
export class ProviderHandle {
  private runtimePromise: Promise<FluxbaseRuntime> | undefined;

  constructor(private readonly settings: ConnectionSettings | { problem: string; detail: string }) {}

  /**
   * The runtime for this configuration (loaded and created on first call). A process serving
   * several commands (debug mode) reuses the runtime of identical settings, so it keeps its
   * login, but forgets what it read. Throws the configuration problem, if any.
   */
  runtime(): Promise<FluxbaseRuntime> {
    const s = this.settings;
    if ('problem' in s) return Promise.reject(new DiagnosticError(s.problem, { detail: s.detail }));
    this.runtimePromise ??= (async () => {
      const key = JSON.stringify(s);
      let shared = RUNTIMES.get(key);
      if (!shared) {
        shared = import('./runtime.js').then((m) => new m.FluxbaseRuntime(s));
        RUNTIMES.set(key, shared);
      }
      const rt = await shared;
      rt.reset();
      return rt;
    })();
    return this.runtimePromise;
  }
}

/** Runtimes of this process by connection settings. */
const RUNTIMES = new Map<string, Promise<FluxbaseRuntime>>();

const ENV = { url: 'FLUXBASE_URL', token: 'FLUXBASE_TOKEN', admin_email: 'FLUXBASE_ADMIN_EMAIL', admin_password: 'FLUXBASE_ADMIN_PASSWORD' } as const;

/** The connection settings of a provider block (with environment fallbacks), or what is wrong with it. */
export function connectionSettings(config: Obj, env: NodeJS.ProcessEnv): ConnectionSettings | { problem: string; detail: string } {
  const out: Record<string, string | undefined> = {};
  for (const [attr, variable] of Object.entries(ENV)) {
    const v = config[attr];
    if (isUnknown(v)) {
      return { problem: `The provider's ${attr} is not known yet`, detail: 'It depends on a value known only after apply. Give the provider block values known at plan time (or use the environment variables).' };
    }
    out[attr] = (typeof v === 'string' && v !== '' ? v : undefined) ?? (env[variable] || undefined);
  }
  if (!out.url) return { problem: 'The Fluxbase URL is not set', detail: 'Set url in the provider "fluxbase" block or FLUXBASE_URL.' };
  if (!out.token && !(out.admin_email && out.admin_password)) {
    return { problem: 'No Fluxbase credentials', detail: 'Set token (FLUXBASE_TOKEN), or admin_email and admin_password (FLUXBASE_ADMIN_EMAIL, FLUXBASE_ADMIN_PASSWORD).' };
  }
  const allow = config.allow_hazards;
  if (isUnknown(allow)) return { problem: "The provider's allow_hazards is not known yet", detail: 'Give it a value known at plan time.' };
  const allowHazards = (Array.isArray(allow) ? (allow as string[]) : (env.FLUXBASE_ALLOW_HAZARDS ?? '').split(',')).map((h) => h.trim().toUpperCase()).filter(Boolean);
  const unknown = allowHazards.filter((h) => !(HAZARD_TYPES as readonly string[]).includes(h));
  if (unknown.length > 0) return { problem: `Unknown hazard type ${unknown.join(', ')} in allow_hazards`, detail: `Known hazards: ${HAZARD_TYPES.join(', ')}.` };
  return { url: out.url, token: out.token, email: out.admin_email, password: out.admin_password, allowHazards: [...new Set(allowHazards)].sort() };
}

function resourceFor(model: ResourceModel): ResourceDefinition<Obj, ProviderHandle> {
  const rt = (p: ProviderHandle) => p.runtime();
  return defineResource<Obj, ProviderHandle>({
    typeName: model.info.typeName,
    schema: model.schema,
    read: async (state, ctx) => (await rt(ctx.provider)).read(model, state, ctx),
    modifyPlan: async (req, ctx) => (await rt(ctx.provider)).plan(model, req, ctx),
    create: async (plan, ctx) => (await rt(ctx.provider)).create(model, plan, ctx),
    update: async (plan, prior, ctx) => (await rt(ctx.provider)).update(model, plan, prior, ctx),
    delete: async (state, ctx) => (await rt(ctx.provider)).delete(model, state, ctx),
    importState: async (id, ctx) => (await rt(ctx.provider)).importState(model, id),
    planDestroy: async (prior, ctx) => (await rt(ctx.provider)).planDestroy(model, prior, ctx),
    ...(model.info.state ? { upgradeState: model.info.state.upgrade } : {}),
    validate: (config, ctx) => {
      for (const [attr, needs] of Object.entries(model.fields.dependencies)) {
        if (config[attr] === null || config[attr] === undefined) continue;
        for (const other of needs) {
          if (config[other] === null) ctx.diagnostics.error('Missing attribute', `${attr} needs ${needs.join(' and ')} as well.`, [other]);
        }
      }
    },
  });
}

/** The provider definition (schemas derived once per process). */
export function fluxbaseProvider(env: NodeJS.ProcessEnv = process.env): ProviderDefinition<ProviderHandle> {
  return defineProvider<ProviderHandle>({
    name: 'fluxbase',
    address: PROVIDER_ADDRESS,
    version: VERSION,
    schema: {
      description: 'Fluxbase instance to manage. Every attribute falls back to the environment variable the fluxbase CLI reads.',
      attributes: {
        url: { type: t.string, optional: true, description: 'Base URL of the Fluxbase server, e.g. https://fluxbase.example.com (FLUXBASE_URL).' },
        token: { type: t.string, optional: true, sensitive: true, description: 'A service-role JWT or an admin access token (FLUXBASE_TOKEN).' },
        admin_email: { type: t.string, optional: true, description: 'Dashboard admin email, for calls that need a user login such as custom settings (FLUXBASE_ADMIN_EMAIL).' },
        admin_password: { type: t.string, optional: true, sensitive: true, description: 'Dashboard admin password (FLUXBASE_ADMIN_PASSWORD).' },
        allow_hazards: {
          type: t.set(t.string),
          optional: true,
          description: `Hazard types a plan may carry (${HAZARD_TYPES.join(', ')}); a change with any other hazard is an error, so nothing is applied (FLUXBASE_ALLOW_HAZARDS, comma-separated).`,
        },
      },
    },
    configure: (config) => new ProviderHandle(connectionSettings(config, env)),
    resources: [...resourceModels().values()].map(resourceFor),
    dataSources: [],
  });
}
