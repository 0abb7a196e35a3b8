/**
 * The access delta of a plan: which cells of the access matrix change between the live instance
 * and the instance as the plan leaves it, in plain words, and which of the plan's changes cause
 * them. A widening (a role gains a command, or reaches provably or possibly more rows) on a table
 * that exists before the plan is the AUTHZ_CHANGE hazard, and the hazard's text says exactly
 * what widens; a table created by the plan exposes no existing row, so its access is shown but
 * not gated. Who reaches a role changes with keys and sign-up; such a widening is a hazard when
 * the role reaches rows of existing tables and the credential already exists (an existing key
 * gains a scope or is enabled again; sign-up opens) — a new key's value is held by nobody yet.
 */
import type { DesiredState } from '../engine/graph.js';
import type { LiveState } from '../engine/refresh.js';
import { parseAddress } from '../model/address.js';
import type { Hazard, Plan, ResourceChange } from '../model/plan.js';
import { DEFAULT_TENANT_SLUG } from '../resources/tenant.js';
import type { Cell, ComputedTable } from './compute.js';
import { sentence } from './words.js';
import { implies } from './predicate.js';
import { buildModel, reachesRows, type ComputedModel, type ResourceView } from './model.js';
import { keyRole, scopeCommands, type KeyInput } from './reach.js';
import { COMMANDS, widening, type AccessDelta, type AccessDeltaEntry, type AccessEffect, type Command, type ReachDeltaEntry, type RowAccess } from './types.js';
import { afterViews, liveViews } from './views.js';

/** Kinds whose changes can change access. */
const ACCESS_KINDS: ReadonlySet<string> = new Set(['table', 'policy', 'client_key', 'service_key', 'system_setting', 'app_settings', 'tenant']);

/** The table a table or policy address belongs to (`table.<tenant>.<schema>.<table>`). */
function tableOf(address: string): string | undefined {
  const parsed = parseAddress(address);
  if (!parsed || (parsed.kind !== 'table' && parsed.kind !== 'policy')) return undefined;
  const [tenant, schema, table] = parsed.segments as [string, string, string];
  return `table.${tenant}.${schema}.${table}`;
}

/** Input of {@link planAccessDelta}. */
export interface AccessDeltaRequest {
  plan: Pick<Plan, 'changes'>;
  desired: DesiredState;
  live: LiveState;
}

/**
 * The delta between the live instance and the instance after the plan, for the tables the plan
 * touches and the keys and settings it changes. Requires loadSqlParser().
 */
export function planAccessDelta(req: AccessDeltaRequest): AccessDelta {
  const changed = req.plan.changes.filter((c) => c.action !== 'no-op' && ACCESS_KINDS.has(c.kind));
  if (changed.length === 0) return { tables: [], reach: [] };
  const touched = new Set(changed.map((c) => tableOf(c.address)).filter((a): a is string => a !== undefined));
  const isDefault = (slug: string) => req.live.tenants.get(slug)?.isDefault ?? slug === DEFAULT_TENANT_SLUG;
  const onlyTouched = (views: ResourceView[]) => views.filter((v) => (v.kind !== 'table' && v.kind !== 'policy') || touched.has(tableOf(v.address)!));
  const beforeViews = liveViews(req.live);
  const after = afterViews(req.plan, req.desired, req.live);
  const beforeModel = buildModel({ views: onlyTouched(beforeViews), source: 'live', isDefaultTenant: isDefault });
  const afterModel = buildModel({ views: onlyTouched(after), source: 'live', isDefaultTenant: isDefault });
  const tables = tableDelta(beforeModel, afterModel, changed);
  let full: ComputedModel | undefined;
  const fullAfter = () => (full ??= buildModel({ views: after, source: 'live', isDefaultTenant: isDefault }));
  const reach = reachDelta(beforeModel, afterModel, changed, req.live, fullAfter);
  return { tables, reach };
}

const NO_TABLE: RowAccess = { level: 'none', reason: 'the table does not exist' };

function tableDelta(before: ComputedModel, after: ComputedModel, changed: readonly ResourceChange[]): AccessDeltaEntry[] {
  const out: AccessDeltaEntry[] = [];
  const byTable = new Map<string, ResourceChange[]>();
  for (const c of changed) {
    const t = tableOf(c.address);
    if (t) byTable.set(t, [...(byTable.get(t) ?? []), c]);
  }
  const addresses = [...new Set([...before.tables.keys(), ...after.tables.keys()])].sort();
  for (const address of addresses) {
    const b = before.tables.get(address);
    const a = after.tables.get(address);
    const onTable = byTable.get(address) ?? [];
    if (onTable.length === 0) continue;
    const { tenant, table } = describeTable(address);
    const roles = [...new Set([...Object.keys(b?.cells ?? {}), ...Object.keys(a?.cells ?? {})])];
    for (const role of roles) {
      for (const command of COMMANDS) {
        const bc = cellOf(b, role, command);
        const ac = cellOf(a, role, command);
        const effect = compareCells(bc, ac);
        if (!effect) continue;
        const direct = onTable.filter((c) => affects(c, role, command));
        const causes = (direct.length > 0 ? direct : onTable).map((c) => c.address);
        const entry: AccessDeltaEntry = {
          tenant,
          table,
          role,
          command,
          effect,
          before: b ? bc.access : NO_TABLE,
          after: a ? ac.access : NO_TABLE,
          ...(!b ? { newTable: true as const } : {}),
          ...(!a ? { droppedTable: true as const } : {}),
          causes,
          text: '',
        };
        entry.text = sentence(entry);
        out.push(entry);
      }
    }
  }
  return out;
}

/**
 * Whether a change can affect a cell. A table's creation, deletion or RLS flag affects every
 * cell; a changed grant the cells of its role (PUBLIC: all); a `tenant_id` column the INSERTs
 * outside the default tenant; other table attributes none. A policy change affects a cell when
 * the policy, before or after, applies to the role (or PUBLIC) and to the command, ALL, or SELECT
 * (whose policies every write needs).
 */
function affects(change: ResourceChange, role: string, command: Command): boolean {
  if (change.kind === 'table') {
    if (change.action !== 'update') return true;
    return change.attributes.some((a) => {
      if (a.path[0] === 'rls_enabled') return true;
      if (a.path[0] === 'grants') return a.path[1] === role || a.path[1] === 'public' || a.path.length === 1;
      return a.path[0] === 'columns' && a.path[1] === 'tenant_id' && command === 'INSERT';
    });
  }
  if (change.kind !== 'policy') return true;
  return [change.before, change.after].some((attrs) => {
    if (!attrs) return false;
    const roles = (attrs.roles as string[] | undefined) ?? ['public'];
    const cmd = (attrs.command as string | undefined) ?? 'ALL';
    return (roles.includes(role) || roles.includes('public')) && (cmd === 'ALL' || cmd === command || cmd === 'SELECT');
  });
}

function describeTable(address: string): { tenant: string; table: string } {
  const [tenant, schema, table] = parseAddress(address)!.segments as [string, string, string];
  return { tenant, table: `${schema}.${table}` };
}

const NONE_CELL: Cell = { access: { level: 'none' }, using: { kind: 'false' }, check: { kind: 'false' } };

/** A role not evaluated on a table (e.g. named only after the plan) has the access PostgreSQL would give it. */
function cellOf(t: ComputedTable | undefined, role: string, command: Command): Cell {
  return t?.cells[role]?.[command] ?? NONE_CELL;
}

/** How a cell changes, or undefined when it admits the same rows (as far as can be proven). */
export function compareCells(b: Cell, a: Cell): AccessEffect | undefined {
  const bn = b.access.level === 'none';
  const an = a.access.level === 'none';
  if (bn && an) return undefined;
  if (bn) return 'gains';
  if (an) return 'loses';
  const wider = implies(b.using, a.using) && implies(b.check, a.check);
  const narrower = implies(a.using, b.using) && implies(a.check, b.check);
  if (wider && narrower) return undefined;
  if (wider) return 'widens';
  if (narrower) return 'narrows';
  return 'changes';
}

/** Keys reaching a role in a tenant, with their commands; client keys are instance-wide (tenant ''). */
function keyReach(keys: readonly KeyInput[], isDefault: (slug: string) => boolean): Map<string, { key: KeyInput; tenant: string; role: string; commands: Command[] }> {
  const out = new Map<string, { key: KeyInput; tenant: string; role: string; commands: Command[] }>();
  for (const key of keys) {
    if (!key.active) continue;
    const tenant = key.kind === 'client_key' ? '' : key.tenant!;
    const role = keyRole(key, key.kind === 'client_key' ? true : isDefault(tenant));
    out.set(key.address, { key, tenant, role, commands: scopeCommands(key.scopes) });
  }
  return out;
}

function reachDelta(
  before: ComputedModel,
  after: ComputedModel,
  changed: readonly ResourceChange[],
  live: LiveState,
  fullAfter: () => ComputedModel,
): ReachDeltaEntry[] {
  const out: ReachDeltaEntry[] = [];
  const isDefault = (slug: string) => live.tenants.get(slug)?.isDefault ?? slug === DEFAULT_TENANT_SLUG;
  const b = keyReach(before.keys, isDefault);
  const a = keyReach(after.keys, isDefault);
  const causesOf = (address: string) => changed.filter((c) => c.address === address).map((c) => c.address);
  // Rows of tables that exist before the plan: a table created by it exposes no existing row.
  const existing = new Set([...live.resources.values()].filter((r) => r.kind === 'table').map((r) => r.address));
  const rowsReached = (tenant: string, role: string, commands: readonly Command[]) => {
    const model = fullAfter();
    const scope = tenant === '' ? model.model.tenants.map((t) => t.tenant) : [tenant];
    return scope.some((t) => reachesRows(model, t, role, commands, existing));
  };
  const label = (k: KeyInput) => `${k.kind === 'client_key' ? 'client key' : 'service key'} \`${k.name}\``;
  const inTenant = (tenant: string) => (tenant === '' ? ' in every tenant' : tenant === DEFAULT_TENANT_SLUG ? '' : ` in tenant \`${tenant}\``);
  for (const address of [...new Set([...b.keys(), ...a.keys()])].sort()) {
    const causes = causesOf(address);
    if (causes.length === 0) continue;
    const was = b.get(address);
    const now = a.get(address);
    // A created or replaced key is a new credential: nobody holds its value yet.
    const fresh = changed.some((c) => c.address === address && (c.action === 'create' || c.action === 'replace'));
    const push = (tenant: string, role: string, effect: ReachDeltaEntry['effect'], commands: Command[], text: string) =>
      out.push({
        tenant,
        role,
        effect,
        reachesRows: effect !== 'loses' && rowsReached(tenant, role, commands),
        ...(fresh && effect !== 'loses' ? { newCredential: true as const } : {}),
        causes,
        text: fresh && effect !== 'loses' ? `${text} — new key` : text,
      });
    if (now && (!was || was.role !== now.role) && now.commands.length > 0) {
      push(now.tenant, now.role, 'gains', now.commands, `${label(now.key)} now reaches \`${now.role}\`${inTenant(now.tenant)} (${now.commands.join(', ')})`);
    }
    if (was && (!now || was.role !== now.role) && was.commands.length > 0) {
      push(was.tenant, was.role, 'loses', was.commands, `${label(was.key)} no longer reaches \`${was.role}\`${inTenant(was.tenant)}`);
    }
    if (was && now && was.role === now.role) {
      const gained = now.commands.filter((c) => !was.commands.includes(c));
      const lost = was.commands.filter((c) => !now.commands.includes(c));
      if (gained.length > 0) push(now.tenant, now.role, 'gains', gained, `${label(now.key)} (as \`${now.role}\`${inTenant(now.tenant)}) gains ${gained.join(', ')}`);
      if (lost.length > 0) push(now.tenant, now.role, 'loses', lost, `${label(now.key)} (as \`${now.role}\`${inTenant(now.tenant)}) loses ${lost.join(', ')}`);
    }
  }
  if (before.signup.open !== after.signup.open) {
    const causes = changed.filter((c) => c.kind === 'system_setting' || c.kind === 'app_settings').map((c) => c.address);
    if (causes.length > 0) {
      const opens = after.signup.open;
      out.push({
        tenant: '',
        role: 'authenticated',
        effect: opens ? 'gains' : 'loses',
        reachesRows: opens && rowsReached('', 'authenticated', COMMANDS),
        causes,
        text: opens ? 'anyone who signs up now reaches `authenticated` (sign-up opens)' : 'sign-up closes: only existing users reach `authenticated`',
      });
    }
  }
  return out;
}

/**
 * Puts the delta on the plan: `plan.access`, and on every change that causes a widening an
 * AUTHZ_CHANGE hazard listing exactly what widens. AUTHZ_CHANGE hazards that handlers proposed
 * from the change alone are replaced by these (a narrowing is not a hazard).
 *
 * The security floor (docs/hazards.md): a widening for `anon` — visitors who never signed in,
 * which is also whom a PUBLIC policy lets in — on a table that exists is WEAKENS_SECURITY as
 * well. The policy handler's guess of it from the policy alone (resources/policy.ts) is replaced
 * by this, so a policy naming `anon` on a table `anon` holds no privilege on is no hazard. Other
 * WEAKENS_SECURITY hazards (RLS turned off, settings) stay as the handlers planned them.
 */
export function annotatePlan(plan: Plan, delta: AccessDelta): void {
  const widenings = new Map<string, string[]>();
  const opened = new Map<string, string[]>();
  const add = (to: Map<string, string[]>, address: string, text: string) => to.set(address, [...(to.get(address) ?? []), text]);
  for (const e of delta.tables) {
    if (!widening(e.effect) || e.newTable) continue;
    for (const c of e.causes) {
      add(widenings, c, e.text);
      if (e.role === 'anon') add(opened, c, e.text);
    }
  }
  for (const e of delta.reach) if (e.effect === 'gains' && e.reachesRows && !e.newCredential) for (const c of e.causes) add(widenings, c, e.text);
  for (const change of plan.changes) {
    if (!ACCESS_KINDS.has(change.kind) || change.action === 'no-op') continue;
    const kept: Hazard[] = change.hazards.filter((h) => h.type !== 'AUTHZ_CHANGE' && !(change.kind === 'policy' && h.type === 'WEAKENS_SECURITY'));
    const texts = widenings.get(change.address);
    if (texts) kept.push({ type: 'AUTHZ_CHANGE', message: `Widens access: ${texts.join('; ')}.` });
    const anon = opened.get(change.address);
    if (anon && !kept.some((h) => h.type === 'WEAKENS_SECURITY')) {
      kept.push({ type: 'WEAKENS_SECURITY', message: `Opens rows to visitors who never signed in: ${anon.join('; ')}.` });
    }
    change.hazards = kept;
  }
  if (delta.tables.length > 0 || delta.reach.length > 0) plan.access = delta;
  else delete plan.access;
}
