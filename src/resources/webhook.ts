/**
 * Webhooks (shared/fluxbase-api keys-webhooks §3). POST /api/v1/webhooks creates (its `enabled`
 * defaults to false, so the tool always sends it); PATCH /api/v1/webhooks/{id} is a FULL
 * replacement — an omitted field becomes empty, an omitted secret is erased, an omitted
 * `enabled` disables — so an update always sends the whole object: declared attributes, live
 * values for undeclared ones, and the secret from the configuration. The secret is write-only:
 * the server never returns it, so the engine decides when to send it from a fingerprint in state.
 */
import { formatAddress, parseAddress } from '../model/address.js';
import type { DesiredResource, LiveResource } from '../model/resource.js';
import type { Webhook } from '../model/config.generated.js';
import { compact, hazard, preventDestroy, sourceAt, sourceOf, sourcesOf } from './common.js';
import { tableAddress } from './table.js';
import { DEFAULT_TENANT_SLUG, tenantAddress } from './tenant.js';
import { FLUXBASE_OWN_TABLES } from './internal-tables.js';
import { currentProfile } from '../server/profile.js';
import type { ApplyRequest, ApplyResult, DesiredRequest, ListRequest, PlanRequest, PlanResult, ReferencesRequest, ResourceHandler, SpecFragment, ToSpecRequest } from './types.js';
import { error, type Diagnostic } from '../diag/index.js';

/** Webhook JSON of GET /api/v1/webhooks (never includes the secret). */
export interface WebhookJson {
  id: string;
  name: string;
  description?: string;
  url: string;
  enabled: boolean;
  events: { table: string; operations: string[] }[] | null;
  max_retries: number;
  retry_backoff_seconds: number;
  timeout_seconds: number;
  headers: Record<string, string> | null;
  scope: string;
}

/** `webhook.<tenant>.<name>` */
export function webhookAddress(tenant: string, name: string): string {
  return formatAddress('webhook', [tenant, name]);
}

type WebhookEvent = { table: string; operations: string[] };

/** Events with sorted operations, ordered by table (compared as a set; see {@link sendOrder}). */
export function canonicalEvents(events: readonly { table: string; operations: readonly string[] }[] | null | undefined): WebhookEvent[] {
  return [...(events ?? [])]
    .map((e) => ({ table: e.table, operations: [...new Set(e.operations)].sort() }))
    .sort((a, b) => (a.table < b.table ? -1 : a.table > b.table ? 1 : 0));
}

/** Fluxbase's own tables in `auth` (a bare event name means one of these to the server). */
const AUTH_TABLES = new Set(FLUXBASE_OWN_TABLES.auth ?? []);

/**
 * Why the server would never deliver an event on `table` (`schema.table`) of a webhook in
 * `tenant`, or undefined when it can (F7).
 */
export function undeliverableReason(tenant: string, table: string): string | undefined {
  const profile = currentProfile();
  if (table === '*') return undefined;
  if (tenant !== DEFAULT_TENANT_SLUG && profile.webhookTriggersMainDatabaseOnly) {
    return `tenant ${tenant}'s tables live in its own database, where the server installs no webhook triggers (it installs them through the main database connection only, internal/webhook/webhook.go:284-290)`;
  }
  const [schema, name] = table.includes('.') ? (table.split('.', 2) as [string, string]) : ['auth', table];
  if (profile.webhookEventsMatchBareName && schema !== 'auth' && AUTH_TABLES.has(name)) {
    return `the server matches events by bare table name, so a webhook that could receive ${table} would also receive the rows of Fluxbase's own auth.${name}; the tool does not send the form that would enable that`;
  }
  return undefined;
}

/**
 * The events as sent, in the form the server can match (F7). The server installs the trigger on
 * `schema.table` (a bare name meaning `auth.<name>`), but its trigger function matches an event
 * only by the bare table name (`event->>'table' = TG_TABLE_NAME`, auth.sql:2497). So in the
 * default tenant a declared `public.orders` is sent as `public.orders` (installs the trigger) plus
 * `orders` (matches), and `auth.users` as `users`. Where delivery cannot happen (another tenant's
 * database, a name shared with an auth table) only the qualified name is sent, which matches
 * nothing. `*` is kept.
 */
export function wireEvents(tenant: string, declared: readonly { table: string; operations: readonly string[] }[] | null | undefined): WebhookEvent[] {
  const out: WebhookEvent[] = [];
  for (const e of canonicalEvents(declared)) {
    const [schema, name] = e.table.includes('.') ? (e.table.split('.', 2) as [string, string]) : ['auth', e.table];
    if (e.table === '*' || !currentProfile().webhookEventsMatchBareName) out.push(e);
    else if (schema === 'auth') out.push({ table: name, operations: e.operations });
    else {
      out.push(e);
      if (undeliverableReason(tenant, e.table) === undefined) out.push({ table: name, operations: e.operations });
    }
  }
  return canonicalEvents(out);
}

/** The inverse of {@link wireEvents}: the events as a configuration declares them. */
export function declaredEvents(wire: readonly WebhookEvent[]): WebhookEvent[] {
  if (!currentProfile().webhookEventsMatchBareName) return canonicalEvents(wire);
  const qualified = new Map(wire.filter((e) => e.table.includes('.')).map((e) => [e.table.split('.', 2)[1]!, e]));
  const out: WebhookEvent[] = [];
  for (const e of wire) {
    if (e.table.includes('.') || e.table === '*') out.push(e);
    else {
      const partner = qualified.get(e.table);
      if (!partner || partner.operations.join() !== e.operations.join()) out.push({ table: `auth.${e.table}`, operations: e.operations });
    }
  }
  return canonicalEvents(out);
}

/** Events in the order the server must receive them: qualified names first (see {@link wireEvents}). */
function sendOrder(events: readonly WebhookEvent[]): WebhookEvent[] {
  return [...events.filter((e) => e.table.includes('.')), ...events.filter((e) => !e.table.includes('.'))];
}

/** Canonical attributes of a declared webhook (defaults for the fields the tool always sends). */
export function desiredWebhookAttrs(w: Webhook, tenant: string = DEFAULT_TENANT_SLUG): Record<string, unknown> {
  return compact({
    url: w.url,
    description: w.description,
    events: wireEvents(tenant, w.events),
    enabled: w.enabled ?? true,
    headers: w.headers,
    max_retries: w.max_retries ?? 3,
    retry_backoff_seconds: w.retry_backoff_seconds ?? 5,
    timeout_seconds: w.timeout_seconds ?? 30,
    scope: w.scope ?? 'global',
  });
}

/** Canonical attributes of a live webhook. */
export function liveWebhookAttrs(w: WebhookJson): Record<string, unknown> {
  return {
    url: w.url,
    description: w.description ?? null,
    events: canonicalEvents(w.events),
    enabled: w.enabled,
    headers: w.headers ?? {},
    max_retries: w.max_retries,
    retry_backoff_seconds: w.retry_backoff_seconds,
    timeout_seconds: w.timeout_seconds,
    scope: w.scope,
  };
}

export const webhookHandler: ResourceHandler = {
  kind: 'webhook',
  scope: 'tenant',
  rules: [{ path: 'headers', exact: true }],
  writeOnly: ['secret'],

  desired({ config, sources, preventDestroyDefault }: DesiredRequest): DesiredResource[] {
    const out: DesiredResource[] = [];
    for (const [slug, tenant] of Object.entries(config.tenants ?? {})) {
      const declaredTables = new Set<string>();
      for (const [schema, s] of Object.entries(tenant?.schemas ?? {})) {
        for (const table of Object.keys(s?.tables ?? {})) declaredTables.add(`${schema}.${table}`);
      }
      for (const [name, w] of Object.entries(tenant?.webhooks ?? {})) {
        const path = ['tenants', slug, 'webhooks', name];
        const watched = (w!.events ?? [])
          .map((e) => e.table)
          .filter((t) => declaredTables.has(t))
          .map((t) => tableAddress(slug, t.split('.')[0]!, t.split('.')[1]!));
        out.push({
          address: webhookAddress(slug, name),
          kind: 'webhook',
          tenant: slug,
          attrs: desiredWebhookAttrs(w!, slug),
          writeOnly: { secret: w!.secret ?? null },
          dependsOn: [tenantAddress(slug), ...new Set(watched)],
          preventDestroy: preventDestroy(w!.lifecycle, preventDestroyDefault),
          source: sourceOf(sources, path),
          path,
          sources: sourcesOf(sources, path, (w!.events ?? []).map((_, i) => ({ at: `events.${i}.table` }))),
          meta: { eventTables: (w!.events ?? []).map((e) => e.table) },
        });
      }
    }
    return out;
  },

  /**
   * Every table the webhook watches exists once the plan is applied: the server accepts a
   * webhook on a missing table, and its deliveries then never happen.
   */
  references({ desired, after }: ReferencesRequest): Diagnostic[] {
    const meta = (desired.meta ?? {}) as { eventTables?: string[] };
    const out: Diagnostic[] = [];
    (meta.eventTables ?? []).forEach((declared, i) => {
      if (declared === '*') return;
      const [schema, table] = eventTable(declared);
      if (after(tableAddress(desired.tenant!, schema, table))) return;
      out.push(
        error('plan.reference', `webhook watches table ${schema}.${table}, which will not exist`, {
          location: sourceAt(desired, `events.${i}.table`),
          path: [...desired.path, 'events', String(i), 'table'],
          detail: `No table ${schema}.${table} is declared in this tenant, and none is live (or this plan drops it); the server would accept the webhook and never deliver. Correct the table, or remove the event.`,
        }),
      );
    });
    return out;
  },


  /** GET /api/v1/webhooks: a bare array of the tenant's webhooks, newest first. */
  async list({ client, tenant }: ListRequest): Promise<LiveResource[]> {
    const res = await client.request<WebhookJson[] | null>({ method: 'GET', route: '/api/v1/webhooks', tenantId: tenant!.id });
    return (res.body ?? []).map((w) => {
      const attrs = liveWebhookAttrs(w);
      return {
        address: webhookAddress(tenant!.slug, w.name),
        kind: 'webhook' as const,
        tenant: tenant!.slug,
        id: w.id,
        attrs,
        parent: tenantAddress(tenant!.slug),
      };
    });
  },

  /**
   * The tool's defaults (enabled, scope global, 3 retries, 5 s backoff, 30 s timeout) are
   * omitted. The server never says whether a webhook has a secret, and any update replaces the
   * whole webhook (an undeclared secret would be erased), so a secret is always declared.
   */
  toSpec({ live }: ToSpecRequest): SpecFragment {
    const a = live.attrs as Record<string, unknown> & { events: { table: string; operations: string[] }[]; headers: Record<string, string> };
    const spec = compact({
      url: a.url,
      description: a.description ? a.description : undefined,
      events: a.events.length > 0 ? declaredEvents(a.events) : undefined,
      headers: Object.keys(a.headers).length > 0 ? a.headers : undefined,
      enabled: a.enabled === true ? undefined : a.enabled,
      scope: a.scope === 'global' ? undefined : a.scope,
      max_retries: a.max_retries === 3 ? undefined : a.max_retries,
      retry_backoff_seconds: a.retry_backoff_seconds === 5 ? undefined : a.retry_backoff_seconds,
      timeout_seconds: a.timeout_seconds === 30 ? undefined : a.timeout_seconds,
    });
    // F7: a webhook set up with only the qualified name (as the dashboard does) never delivers;
    // the declaration means the form the server matches, which the first plan sends.
    const declared = declaredEvents(a.events);
    const sent = wireEvents(live.tenant!, declared);
    const comments = JSON.stringify(sent) === JSON.stringify(canonicalEvents(a.events)) || a.events.length === 0
      ? []
      : [{ path: ['events'], text: 'the server holds these events in a form it never matches (bare table names only); the first plan sends the form that delivers' }];
    return { path: ['tenants', live.tenant!, 'webhooks', parseAddress(live.address)!.segments[1]!], spec, comments, writeOnly: [{ attribute: 'secret', path: ['secret'] }] };
  },

  plan({ change }: PlanRequest): PlanResult {
    const name = change.address;
    if (change.action === 'delete' || change.action === 'replace') {
      return { hazards: [hazard('STOPS_DELIVERIES', `Deletes ${name}: its pending and future deliveries stop.`)] };
    }
    const disabled = change.attributes.some((a) => a.path[0] === 'enabled' && a.before === true && a.after === false);
    return disabled ? { hazards: [hazard('STOPS_DELIVERIES', `Disables ${name}: row changes stop being delivered.`)] } : {};
  },

  /** POST /api/v1/webhooks → 201 with the webhook (no secret). */
  async create({ client, desired, tenant }: ApplyRequest): Promise<ApplyResult> {
    const res = await client.request<WebhookJson>({
      method: 'POST',
      route: '/api/v1/webhooks',
      tenantId: tenant!.id,
      body: body(desired!, {}),
      expect: [201],
      // The server does not keep webhook names unique: a blind retry could create a second one.
      once: true,
    });
    return { id: res.body.id };
  },

  /** PATCH /api/v1/webhooks/:id with the complete object (the server replaces every field). */
  async update({ client, change, desired, tenant }: ApplyRequest): Promise<ApplyResult> {
    await client.request({
      method: 'PATCH',
      route: '/api/v1/webhooks/:id',
      params: { id: change.id! },
      tenantId: tenant!.id,
      body: body(desired!, change.before ?? {}),
      expect: [200],
    });
    return { id: change.id };
  },

  /** DELETE /api/v1/webhooks/:id → 200 (a missing webhook answers 500). */
  async delete({ client, change, tenant }: ApplyRequest): Promise<void> {
    await client.request({ method: 'DELETE', route: '/api/v1/webhooks/:id', params: { id: change.id! }, tenantId: tenant!.id, expect: [200] });
  },
};

/** `schema.table` of an event's table; a bare name is in schema auth, as the server resolves it. */
function eventTable(table: string): [string, string] {
  const dot = table.indexOf('.');
  return dot < 0 ? ['auth', table] : [table.slice(0, dot), table.slice(dot + 1)];
}

/** The full request body: live values for undeclared fields, declared values on top, the secret. */
function body(desired: DesiredResource, live: Record<string, unknown>): Record<string, unknown> {
  const name = desired.path[desired.path.length - 1]!;
  const merged = { ...live, ...desired.attrs } as Record<string, unknown>;
  return {
    name,
    description: merged.description ?? null,
    url: merged.url,
    enabled: merged.enabled,
    events: sendOrder((merged.events ?? []) as WebhookEvent[]),
    headers: merged.headers ?? {},
    max_retries: merged.max_retries,
    retry_backoff_seconds: merged.retry_backoff_seconds,
    timeout_seconds: merged.timeout_seconds,
    scope: merged.scope,
    secret: desired.writeOnly.secret ?? null,
  };
}
