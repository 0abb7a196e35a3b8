/**
 * App settings (shared/fluxbase-api keys-webhooks-settings §4): one instance-wide resource,
 * `app_settings`, with sections authentication, features, email and security. The real
 * PUT /api/v1/admin/app/settings REPLACES each section it receives (missing keys become false/0),
 * so apply re-reads the settings, merges the declared keys into each changed section and sends
 * the whole section. Only declared keys are managed. A section containing a key locked by a
 * FLUXBASE_* environment variable cannot be written at all (the server answers 500), so its
 * changes are dropped from the plan with a warning instead of failing every apply.
 */
import { warning, type Diagnostic } from '../diag/index.js';
import type { AppSettings } from '../model/config.generated.js';
import type { DesiredResource, LiveResource } from '../model/resource.js';
import { compact, sourceOf } from './common.js';
import { APP_SETTINGS_FLOOR, floorHazards, settingChanges } from './security-floor.js';
import type { ApplyRequest, ApplyResult, DesiredRequest, ListRequest, PlanRequest, PlanResult, ResourceHandler, SpecFragment, ToSpecRequest } from './types.js';

/** GET /api/v1/admin/app/settings response. */
export interface AppSettingsJson {
  authentication: Record<string, unknown>;
  features: Record<string, unknown>;
  email: Record<string, unknown>;
  security: Record<string, unknown>;
  overrides?: Record<string, Record<string, unknown>>;
}

const ADDRESS = 'app_settings';
const SECTIONS = ['authentication', 'features', 'email', 'security'] as const;
/** Write-only email fields (dotted paths inside `email`); the server never returns them. */
const EMAIL_SECRETS = ['smtp.password', 'sendgrid.api_key', 'mailgun.api_key', 'ses.access_key_id', 'ses.secret_access_key'];

/**
 * The email fields `fluxbase export` declares here, with the values GET shows when nothing is
 * stored (keys doc §4). Apply writes the email section whole, so its fields are declared together
 * here and never as system settings (SHARED_EMAIL_KEYS). The authentication, features and
 * security fields are rows of their own that the export declares as system settings, one row
 * each, so exporting never makes apply rewrite a whole section.
 */
export const APP_EMAIL_DEFAULTS: Readonly<Record<string, unknown>> = {
  enabled: false,
  provider: 'smtp',
  from_address: undefined,
  from_name: undefined,
  reply_to_address: undefined,
  'smtp.host': '',
  'smtp.port': 0,
  'smtp.username': '',
  'smtp.tls': false,
  'mailgun.domain': '',
  'mailgun.eu_region': false,
  'ses.region': '',
};

/** The declared settings without write-only values, and the write-only values by `email.<path>`. */
function split(app: AppSettings): { attrs: Record<string, unknown>; writeOnly: Record<string, string | null> } {
  const attrs = structuredClone(app) as Record<string, Record<string, unknown>>;
  const writeOnly: Record<string, string | null> = {};
  const email = attrs.email as Record<string, Record<string, unknown> | unknown> | undefined;
  for (const path of EMAIL_SECRETS) {
    const [provider, field] = path.split('.') as [string, string];
    const sub = email?.[provider] as Record<string, unknown> | undefined;
    if (sub && field in sub) {
      writeOnly[`email.${path}`] = sub[field] as string;
      delete sub[field];
      if (Object.keys(sub).length === 0) delete (email as Record<string, unknown>)[provider];
    }
  }
  return { attrs, writeOnly };
}

export const appSettingsHandler: ResourceHandler = {
  kind: 'app_settings',
  scope: 'instance',
  rules: [],

  desired({ config, sources }: DesiredRequest): DesiredResource[] {
    const app = config.settings?.app;
    if (!app) return [];
    const { attrs, writeOnly } = split(app);
    return [{ address: ADDRESS, kind: 'app_settings', attrs, writeOnly, dependsOn: [], preventDestroy: false, builtin: true, source: sourceOf(sources, ['settings', 'app']), path: ['settings', 'app'] }];
  },

  async list({ client }: ListRequest): Promise<LiveResource[]> {
    const res = await client.request<AppSettingsJson>({ method: 'GET', route: '/api/v1/admin/app/settings' });
    const attrs = compact(Object.fromEntries(SECTIONS.map((s) => [s, res.body[s]])));
    return [{ address: ADDRESS, kind: 'app_settings', attrs, builtin: true, meta: { overrides: res.body.overrides ?? {} } }];
  },

  /**
   * Only the email section: the fields that differ from what GET shows by default and are not
   * locked by the server's environment (see APP_EMAIL_DEFAULTS). Email credentials are never
   * returned, so they are not declared.
   */
  toSpec({ live, includeInternal }: ToSpecRequest): SpecFragment {
    const email = (live.attrs.email ?? {}) as Record<string, unknown>;
    const locked = ((live.meta?.overrides ?? {}) as Record<string, Record<string, unknown>>).email ?? {};
    const out: Record<string, unknown> = {};
    for (const [field, def] of Object.entries(APP_EMAIL_DEFAULTS)) {
      const [a, b] = field.split('.') as [string, string | undefined];
      const value = b === undefined ? email[a] : (email[a] as Record<string, unknown> | undefined)?.[b];
      if (value === undefined || field in locked || (value === def && !includeInternal)) continue;
      if (b === undefined) out[a] = value;
      else out[a] = { ...((out[a] as Record<string, unknown> | undefined) ?? {}), [b]: value };
    }
    return { path: ['settings', 'app'], spec: Object.keys(out).length > 0 ? { email: out } : undefined };
  },

  plan({ change, live }: PlanRequest): PlanResult {
    const overrides = (live?.meta?.overrides ?? {}) as Record<string, Record<string, unknown>>;
    const drop: string[][] = [];
    const diagnostics: Diagnostic[] = [];
    for (const section of SECTIONS) {
      const locked = Object.keys(overrides[section] ?? {});
      const changed = change.attributes.filter((a) => (a.path[0] ?? '').split('.')[0] === section);
      if (locked.length === 0 || changed.length === 0) continue;
      drop.push(...changed.map((a) => a.path));
      diagnostics.push(
        warning('api.env-override', `settings.app.${section} is not changed: ${locked.join(', ')} ${locked.length === 1 ? 'is' : 'are'} locked by FLUXBASE_* environment variables on the server`, {
          address: ADDRESS,
          detail: `The server refuses to write any key of a section that contains an environment-locked key. Change ${changed.map((a) => a.path.join('.')).join(', ')} through the server's environment, or remove ${changed.length === 1 ? 'it' : 'them'} from the configuration.`,
        }),
      );
    }
    const dropped = new Set(drop.map((p) => p.join('.')));
    const kept = change.attributes.filter((a) => !dropped.has(a.path.join('.')));
    return { drop, diagnostics, hazards: floorHazards(APP_SETTINGS_FLOOR, settingChanges(kept, 'settings.app')) };
  },

  async create(req: ApplyRequest): Promise<ApplyResult> {
    return write(req);
  },

  update(req: ApplyRequest): Promise<ApplyResult> {
    return write(req);
  },

  /** App settings are never deleted; removing them from the config leaves them as they are. */
  async delete(): Promise<void> {},
};

/** GET, merge the declared keys into each changed section, PUT those sections whole. */
async function write({ client, change, desired }: ApplyRequest): Promise<ApplyResult> {
  const current = (await client.request<AppSettingsJson>({ method: 'GET', route: '/api/v1/admin/app/settings' })).body;
  const declared = desired!.attrs as Record<string, Record<string, unknown>>;
  const sections = new Set(change.attributes.map((a) => (a.path[0] ?? '').split('.')[0]!));
  const body: Record<string, Record<string, unknown>> = {};
  for (const section of SECTIONS) {
    if (!sections.has(section)) continue;
    const merged: Record<string, unknown> = { ...(current[section] ?? {}), ...(declared[section] ?? {}) };
    if (section === 'email') {
      for (const provider of ['smtp', 'sendgrid', 'mailgun', 'ses']) {
        const base = { ...((current.email?.[provider] as Record<string, unknown> | undefined) ?? {}), ...((declared.email?.[provider] as Record<string, unknown> | undefined) ?? {}) };
        for (const path of EMAIL_SECRETS.filter((p) => p.startsWith(`${provider}.`))) {
          const value = desired!.writeOnly[`email.${path}`];
          if (value) base[path.split('.')[1]!] = value;
        }
        if (Object.keys(base).length > 0) merged[provider] = base;
      }
    }
    body[section] = merged;
  }
  await client.request({ method: 'PUT', route: '/api/v1/admin/app/settings', body, expect: [200] });
  return {};
}
