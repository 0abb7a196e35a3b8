/**
 * Custom and secret settings of a tenant (shared/fluxbase-api keys-webhooks-settings §6),
 * `custom_setting.<tenant>["<key>"]`: application configuration such as feature flags, or, with
 * `secret`, a write-only secret setting. Routed by X-FB-Tenant (row-level security scopes them to
 * the tenant), but keys are unique across the whole instance. Creating and updating need a
 * platform user id, so a service-role JWT alone cannot write them (the server answers 401).
 * Values are objects on the wire: a declared non-object value is stored as {"value": …}. Plans
 * compare and show the value as declared (`value = "0 7 * * MON"`, not the wire object).
 */
import { error } from '../diag/index.js';
import { formatAddress } from '../model/address.js';
import type { CustomSetting } from '../model/config.generated.js';
import type { DesiredResource, LiveResource } from '../model/resource.js';
import { compact, preventDestroy, sourceOf } from './common.js';
import { tenantAddress } from './tenant.js';
import type { ApplyRequest, ApplyResult, DesiredRequest, ListRequest, PlanRequest, PlanResult, ResourceHandler, SpecFragment, ToSpecRequest } from './types.js';

interface CustomSettingJson {
  key: string;
  value: unknown;
  value_type?: string;
  description?: string;
  editable_by?: string[];
}

const CUSTOM = '/api/v1/admin/settings/custom';

/** `custom_setting.<tenant>["<key>"]` */
export function customSettingAddress(tenant: string, key: string): string {
  return formatAddress('custom_setting', [tenant, key]);
}

/** The wire form of a declared value: objects as they are, anything else as {"value": …}. */
export function wireValue(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : { value };
}

/** The value as a person declares it: a `{"value": X}` wire object whose X is not an object is X. */
export function declaredValue(wire: unknown): unknown {
  if (wire === null || typeof wire !== 'object' || Array.isArray(wire)) return wire;
  const o = wire as Record<string, unknown>;
  const keys = Object.keys(o);
  return keys.length === 1 && keys[0] === 'value' && (o.value === null || typeof o.value !== 'object' || Array.isArray(o.value)) ? o.value : wire;
}

/** value_type when not declared: json for objects and arrays, else the JSON type. */
export function defaultValueType(value: unknown): string {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'number') return 'number';
  if (typeof value === 'boolean') return 'boolean';
  return 'json';
}

function desiredAttrs(s: CustomSetting): { attrs: Record<string, unknown>; writeOnly: Record<string, string | null> } {
  if (s.secret !== undefined) return { attrs: compact({ secret: true, description: s.description }), writeOnly: { secret: s.secret } };
  return {
    attrs: compact({
      secret: false,
      value: s.value === undefined ? {} : declaredValue(wireValue(s.value)),
      value_type: s.value_type ?? defaultValueType(s.value),
      description: s.description,
      editable_by: s.editable_by ? [...s.editable_by].sort() : undefined,
    }),
    writeOnly: {},
  };
}

/** The `instance` state backend's document or lock (src/state/instance.ts): the tool's own settings. */
function isStateSetting(key: string, value: unknown): boolean {
  const v = (value ?? {}) as Record<string, unknown>;
  return v.format === 'fluxbase-iac-state' || (key.endsWith('.lock') && typeof v.owner === 'string' && typeof v.operation === 'string' && typeof v.expires === 'string');
}

function keyOf(address: string, desired?: DesiredResource): string {
  return (desired?.meta?.key as string | undefined) ?? JSON.parse(address.slice(address.indexOf('[') + 1, -1)) as string;
}

export const customSettingHandler: ResourceHandler = {
  kind: 'custom_setting',
  scope: 'tenant',
  writesAs: 'user',
  rules: [
    { path: 'secret', replace: true },
    { path: 'editable_by', compare: 'set' },
  ],
  writeOnly: ['secret'],

  desired({ config, sources, preventDestroyDefault }: DesiredRequest): DesiredResource[] {
    const out: DesiredResource[] = [];
    for (const [slug, tenant] of Object.entries(config.tenants ?? {})) {
      for (const [key, s] of Object.entries(tenant?.settings?.custom ?? {})) {
        const path = ['tenants', slug, 'settings', 'custom', key];
        out.push({
          address: customSettingAddress(slug, key),
          kind: 'custom_setting',
          tenant: slug,
          ...desiredAttrs(s!),
          dependsOn: [tenantAddress(slug)],
          preventDestroy: preventDestroy(s!.lifecycle, preventDestroyDefault),
          source: sourceOf(sources, path),
          path,
          meta: { key },
        });
      }
    }
    return out;
  },

  /** GET /settings/custom and GET /settings/custom/secrets (each a bare array, null when empty). */
  async list({ client, tenant }: ListRequest): Promise<LiveResource[]> {
    const [custom, secrets] = await Promise.all([
      client.request<CustomSettingJson[] | null>({ method: 'GET', route: CUSTOM, tenantId: tenant!.id }),
      client.request<CustomSettingJson[] | null>({ method: 'GET', route: `${CUSTOM}/secrets`, tenantId: tenant!.id }),
    ]);
    const secretKeys = new Set((secrets.body ?? []).map((s) => s.key));
    const live: LiveResource[] = [];
    for (const s of secrets.body ?? []) {
      const attrs = { secret: true, description: s.description ?? '' };
      live.push({ address: customSettingAddress(tenant!.slug, s.key), kind: 'custom_setting', tenant: tenant!.slug, id: s.key, attrs, parent: tenantAddress(tenant!.slug) });
    }
    for (const s of custom.body ?? []) {
      if (secretKeys.has(s.key)) continue;
      const attrs = {
        secret: false,
        value: declaredValue(s.value),
        value_type: s.value_type ?? 'string',
        description: s.description ?? '',
        editable_by: [...(s.editable_by ?? [])].sort(),
      };
      live.push({ address: customSettingAddress(tenant!.slug, s.key), kind: 'custom_setting', tenant: tenant!.slug, id: s.key, attrs, parent: tenantAddress(tenant!.slug) });
    }
    return live;
  },

  /**
   * A `{"value": X}` wire object is declared as `value: X`; value_type is omitted when it is the
   * default for the value, editable_by when it is the server's default ([instance_admin]). A
   * secret setting declares `secret` (write-only). The state document and lock of the `instance`
   * state backend are the tool's own and are left out.
   */
  toSpec({ live }: ToSpecRequest): SpecFragment | undefined {
    const key = live.id!;
    const a = live.attrs as { secret: boolean; value?: unknown; value_type?: string; description?: string; editable_by?: string[] };
    if (isStateSetting(key, a.value)) return undefined;
    const path = ['tenants', live.tenant!, 'settings', 'custom', key];
    const description = a.description ? a.description : undefined;
    if (a.secret) return { path, spec: compact({ description }), writeOnly: [{ attribute: 'secret', path: ['secret'] }] };
    const value = a.value === undefined ? {} : a.value;
    const editable = [...(a.editable_by ?? [])].sort();
    return {
      path,
      spec: compact({
        value,
        value_type: a.value_type === defaultValueType(value) ? undefined : a.value_type,
        description,
        editable_by: editable.length === 0 || (editable.length === 1 && editable[0] === 'instance_admin') ? undefined : editable,
      }),
    };
  },

  plan({ change, identities }: PlanRequest): PlanResult {
    if (change.action === 'delete' || change.action === 'no-op' || identities.user) return {};
    return {
      diagnostics: [
        error('api.capability', 'writing custom settings needs a dashboard admin login', {
          detail: 'The server refuses custom-setting writes from tokens without a user id, such as a service-role JWT. Set FLUXBASE_ADMIN_EMAIL and FLUXBASE_ADMIN_PASSWORD (FLUXBASE_TOKEN can stay set for tenant migrations).',
        }),
      ],
    };
  },

  /** POST /settings/custom (or /settings/custom/secret) → 201; 409 when the key exists anywhere on the instance. */
  async create({ client, desired, tenant }: ApplyRequest): Promise<ApplyResult> {
    const key = keyOf('', desired);
    const a = desired!.attrs;
    if (a.secret) {
      await client.request({ method: 'POST', route: `${CUSTOM}/secret`, tenantId: tenant!.id, identity: 'user', body: compact({ key, value: desired!.writeOnly.secret, description: a.description }), expect: [201] });
    } else {
      await client.request({
        method: 'POST',
        route: CUSTOM,
        tenantId: tenant!.id,
        identity: 'user',
        body: compact({ key, value: wireValue(a.value), value_type: a.value_type, description: a.description, editable_by: a.editable_by }),
        expect: [201],
      });
    }
    return { id: key };
  },

  /** PUT /settings/custom/{key} (value replaced; description and editable_by when declared) or …/secret/{key}. */
  async update({ client, change, desired, tenant }: ApplyRequest): Promise<ApplyResult> {
    const key = keyOf(change.address, desired);
    const a = desired!.attrs;
    const changed = new Set(change.attributes.map((x) => x.path[0]!));
    if (a.secret) {
      await client.request({
        method: 'PUT',
        route: `${CUSTOM}/secret/*`,
        rawPath: `${CUSTOM}/secret/${key}`,
        tenantId: tenant!.id,
        identity: 'user',
        body: compact({ value: changed.has('secret') ? desired!.writeOnly.secret : undefined, description: a.description }),
        expect: [200],
      });
    } else {
      await client.request({
        method: 'PUT',
        route: `${CUSTOM}/*`,
        rawPath: `${CUSTOM}/${key}`,
        tenantId: tenant!.id,
        identity: 'user',
        body: compact({ value: wireValue(a.value), description: a.description, editable_by: a.editable_by }),
        expect: [200],
      });
    }
    return { id: key };
  },

  /** DELETE /settings/custom/{key} (or …/secret/{key}) → 204. */
  async delete({ client, change, tenant }: ApplyRequest): Promise<void> {
    const key = keyOf(change.address);
    const secret = (change.before as { secret?: boolean } | null)?.secret === true;
    await client.request({
      method: 'DELETE',
      route: secret ? `${CUSTOM}/secret/*` : `${CUSTOM}/*`,
      rawPath: secret ? `${CUSTOM}/secret/${key}` : `${CUSTOM}/${key}`,
      tenantId: tenant!.id,
      expect: [204, 404],
    });
  },
};
