/**
 * Pending operations (engine/pending.ts), the state writer, moves and targeting
 * (engine/lifecycle.ts) and the colour rule, as specifications on plain data.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/engine/load.js';
import { validateDocument } from '../../src/engine/validate.js';
import { buildDesired, type DesiredState } from '../../src/engine/graph.js';
import { buildPlan, gateResumed } from '../../src/engine/plan.js';
import { desiredAttrsFingerprint, pruneGone, resolvePending } from '../../src/engine/pending.js';
import { applyMoves, targetChanges } from '../../src/engine/lifecycle.js';
import { stateWriter } from '../../src/engine/state-writer.js';
import { tableKeys } from '../../src/engine/apply.js';
import type { LiveState } from '../../src/engine/refresh.js';
import type { LiveResource } from '../../src/model/resource.js';
import { emptyState, secretFingerprint, setEntry, type PendingOperation, type StateDocument } from '../../src/state/document.js';
import { colorEnabled } from '../../src/commands/color.js';
import { loadSqlParser } from '../../src/sql/parser.js';

beforeAll(() => loadSqlParser());

const CONFIG = `version: 1
tenants:
  default:
    schemas:
      public:
        tables:
          notes:
            columns: { id: { type: bigint, primary_key: true } }
            rls:
              enabled: true
              policies:
                notes_read: { command: SELECT, roles: [authenticated], using: "true" }
    webhooks:
      hook: { url: https://hooks.example.com/a, secret: "\${env:HOOK_SECRET}" }
    service_keys:
      ci: { scopes: ["*"] }
`;

async function desired(yaml = CONFIG): Promise<DesiredState> {
  const { config, diagnostics } = await validateDocument(loadConfigText(yaml, 'fluxbase.config.yaml', { env: { HOOK_SECRET: 'hook-secret' } }));
  expect(diagnostics).toEqual([]);
  return buildDesired(config!);
}

const res = (address: string, kind: LiveResource['kind'], extra: Partial<LiveResource> = {}): LiveResource => ({ address, kind, attrs: {}, fingerprint: `f-${address}`, ...extra });

function live(resources: LiveResource[]): LiveState {
  return {
    resources: new Map([res('tenant.default', 'tenant', { id: 'd-1', builtin: true, attrs: {} }), ...resources].map((r) => [r.address, r])),
    tenants: new Map([['default', { slug: 'default', id: 'd-1', isDefault: true }]]),
    scanned: new Set(['default']),
    diagnostics: [],
  };
}

const op = (address: string, kind: PendingOperation['kind'], action: PendingOperation['action'], extra: Partial<PendingOperation> = {}): PendingOperation => ({
  address,
  kind,
  action,
  started: '2026-01-01T00:00:00.000Z',
  ...extra,
});

describe('resolving pending operations', () => {
  it('adopts what an interrupted create made, with the id it has and the write-only fingerprints it sent', async () => {
    const state: StateDocument = { ...emptyState(), pending: [op('webhook.default.hook', 'webhook', 'create', { writeOnly: { secret: 'scrypt:aa' } })] };
    const r = resolvePending({ state, live: live([res('webhook.default.hook', 'webhook', { id: 'w-9' })]), desired: await desired() });
    expect(state.resources['webhook.default.hook']).toEqual({ kind: 'webhook', id: 'w-9', writeOnly: { secret: 'scrypt:aa' } });
    expect(state.pending).toBeUndefined();
    expect(r.notes).toEqual([{ address: 'webhook.default.hook', message: 'the interrupted create had made it: now managed' }]);
    expect(r.changed).toBe(true);
  });

  it('plans a create again when nothing was made, and drops an interrupted delete whose target is gone', async () => {
    const state: StateDocument = {
      ...emptyState(),
      resources: { 'webhook.default.old': { kind: 'webhook', id: 'w-1' } },
      pending: [op('webhook.default.hook', 'webhook', 'create'), op('webhook.default.old', 'webhook', 'delete', { id: 'w-1' })],
    };
    const r = resolvePending({ state, live: live([]), desired: await desired() });
    expect(state.resources).toEqual({});
    expect(r.notes.map((n) => n.message)).toEqual(['the interrupted create did not happen: planned again', 'the interrupted delete had happened: removed from the state']);
  });

  it('tells a replaced object from the old one by id', async () => {
    const d = await desired();
    const made: StateDocument = { ...emptyState(), resources: { 'service_key.default.ci': { kind: 'service_key', id: 'old' } }, pending: [op('service_key.default.ci', 'service_key', 'replace', { id: 'old', revealed: true })] };
    resolvePending({ state: made, live: live([res('service_key.default.ci', 'service_key', { id: 'new' })]), desired: d });
    expect(made.resources['service_key.default.ci']?.id).toBe('new');
    const notYet: StateDocument = { ...emptyState(), resources: { 'service_key.default.ci': { kind: 'service_key', id: 'old' } }, pending: [op('service_key.default.ci', 'service_key', 'replace', { id: 'old' })] };
    const r = resolvePending({ state: notYet, live: live([res('service_key.default.ci', 'service_key', { id: 'old' })]), desired: d });
    expect(notYet.resources['service_key.default.ci']?.id).toBe('old');
    expect(r.unrevealed.size).toBe(0);
  });

  it('replaces a key whose value never reached the user, without asking for ROTATES_CREDENTIAL the create did not need', async () => {
    const d = await desired();
    const attrs = d.get('service_key.default.ci')!.attrs;
    const state: StateDocument = { ...emptyState(), pending: [op('service_key.default.ci', 'service_key', 'create', { desired: desiredAttrsFingerprint(attrs) })] };
    const l = live([res('service_key.default.ci', 'service_key', { id: 'k-1', attrs: { ...attrs } })]);
    const r = resolvePending({ state, live: l, desired: d });
    expect([...r.unrevealed]).toEqual(['service_key.default.ci']);
    const plan = buildPlan({ endpoint: 'x', desired: d, live: l, state, resolution: r });
    const key = plan.changes.find((c) => c.address === 'service_key.default.ci')!;
    expect(key.action).toBe('replace');
    expect(key.reason).toBe('created by an interrupted apply that never received its value');
    expect(key.hazards).toEqual([]);
  });

  it('gates a resumed change on the hazards approved for it, while its declaration is unchanged', async () => {
    const d = await desired();
    const policy = d.get('policy.default.public.notes.notes_read')!;
    // The table exists (the interrupted run made it): a permissive policy on it would be AUTHZ_CHANGE…
    const l = live([res('table.default.public.notes', 'table', { id: 'public.notes' })]);
    const approved: StateDocument = { ...emptyState(), resources: { 'table.default.public.notes': { kind: 'table' } }, pending: [{ address: policy.address, kind: 'policy', action: 'create', desired: desiredAttrsFingerprint(policy.attrs) }] };
    const r = resolvePending({ state: approved, live: l, desired: d });
    expect(r.notes).toEqual([{ message: '1 change(s) the interrupted apply had not started are planned again, gated on the hazards approved for them then' }]);
    const resumed = buildPlan({ endpoint: 'x', desired: d, live: l, state: approved, resolution: r });
    expect(resumed.changes.find((c) => c.address === policy.address)?.hazards).toEqual([]);
    // A hazard added after the plan is built (the access delta, in session.ts) is gated the same way.
    resumed.changes.find((c) => c.address === policy.address)!.hazards.push({ type: 'AUTHZ_CHANGE', message: 'Widens access: …' });
    gateResumed(resumed.changes, r);
    expect(resumed.changes.find((c) => c.address === policy.address)?.hazards).toEqual([]);
    // …and is, when the plan that created the table did not include the policy.
    const fresh = buildPlan({ endpoint: 'x', desired: d, live: l, state: { ...emptyState(), resources: { 'table.default.public.notes': { kind: 'table' } } } });
    expect(fresh.changes.find((c) => c.address === policy.address)?.hazards.map((h) => h.type)).toEqual(['AUTHZ_CHANGE']);
  });

  it('resolves nothing when the live state could not be read', async () => {
    const state: StateDocument = { ...emptyState(), pending: [op('webhook.default.hook', 'webhook', 'create')] };
    const l = { ...live([]), diagnostics: [{ severity: 'error' as const, code: 'api.network' as const, summary: 'down' }] };
    expect(resolvePending({ state, live: l, desired: await desired() }).changed).toBe(false);
    expect(state.pending).toHaveLength(1);
  });

  it('drops managed entries that are neither declared nor live, only where refresh looked', async () => {
    const state: StateDocument = { ...emptyState(), resources: { 'webhook.default.gone': { kind: 'webhook', id: 'w' }, 'webhook.other.x': { kind: 'webhook', id: 'y' } } };
    const l = live([]);
    l.tenants.set('other', { slug: 'other', id: 'o-1', isDefault: false }); // live, but its resources were not listed
    expect(pruneGone({ state, live: l, desired: await desired() }).map((n) => n.address)).toEqual(['webhook.default.gone']);
    expect(Object.keys(state.resources)).toEqual(['webhook.other.x']);
  });
});

describe('moves and targets', () => {
  it('moves a state entry, re-keying a write-only fingerprint whose value is unchanged', async () => {
    const d = await desired(CONFIG.replace('      hook:', '      hook-2:'));
    const state = emptyState();
    setEntry(state, 'webhook.default.hook', { kind: 'webhook', id: 'w-1', writeOnly: { secret: secretFingerprint(state.salt, 'webhook.default.hook#secret', 'hook-secret') } });
    const { moved, diagnostics } = applyMoves({ state, moves: [{ from: 'webhook.default.hook', to: 'webhook.default.hook-2' }], desired: d, live: live([res('webhook.default.hook-2', 'webhook', { id: 'w-1' })]) });
    expect(diagnostics).toEqual([]);
    expect([...moved]).toEqual([['webhook.default.hook-2', 'webhook.default.hook']]);
    expect(state.resources['webhook.default.hook-2']?.writeOnly?.secret).toBe(secretFingerprint(state.salt, 'webhook.default.hook-2#secret', 'hook-secret'));
    expect(state.resources['webhook.default.hook']).toBeUndefined();
  });

  it('keeps a targeted create with what it depends on', async () => {
    const d = await desired();
    const plan = buildPlan({ endpoint: 'x', desired: d, live: live([]), state: emptyState() });
    const { changes, diagnostics } = targetChanges({ changes: plan.changes, targets: ['policy.default.public.notes.notes_read'], desired: d, live: live([]), state: emptyState() });
    expect(changes.filter((c) => c.action !== 'no-op').map((c) => c.address)).toEqual(['table.default.public.notes', 'policy.default.public.notes.notes_read']);
    expect(diagnostics.map((x) => [x.severity, x.code])).toEqual([['warning', 'plan.target']]);
  });
});

describe('the state writer', () => {
  it('never overlaps writes, folds calls that wait into one write, and each caller sees its change written', async () => {
    const written: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const persist = stateWriter(async (s) => {
      written.push(Object.keys(s.resources).length);
      if (written.length === 1) await gate;
    });
    const state = emptyState();
    setEntry(state, 'a', { kind: 'webhook' });
    const first = persist(state);
    await new Promise((r) => setTimeout(r, 0)); // the first write has started (and is held)
    setEntry(state, 'b', { kind: 'webhook' });
    const second = persist(state);
    setEntry(state, 'c', { kind: 'webhook' });
    const third = persist(state);
    expect(third).toBe(second);
    release();
    await Promise.all([first, second, third]);
    expect(written).toEqual([1, 3]);
    expect(state.serial).toBe(2);
  });
});

describe('colour', () => {
  it.each([
    ['a terminal', { isTTY: true, env: {}, noColorFlag: false }, true],
    ['no terminal', { isTTY: false, env: {}, noColorFlag: false }, false],
    ['NO_COLOR=1', { isTTY: true, env: { NO_COLOR: '1' }, noColorFlag: false }, false],
    ['an empty NO_COLOR (no-color.org: not set)', { isTTY: true, env: { NO_COLOR: '' }, noColorFlag: false }, true],
    ['FORCE_COLOR=1 without a terminal', { isTTY: false, env: { FORCE_COLOR: '1' }, noColorFlag: false }, true],
    ['FORCE_COLOR=0 on a terminal', { isTTY: true, env: { FORCE_COLOR: '0' }, noColorFlag: false }, false],
    ['--no-color over FORCE_COLOR', { isTTY: true, env: { FORCE_COLOR: '1' }, noColorFlag: true }, false],
    ['TERM=dumb', { isTTY: true, env: { TERM: 'dumb' }, noColorFlag: false }, false],
  ])('with %s', (_name, req, expected) => {
    expect(colorEnabled(req)).toBe(expected);
  });
});

describe('tables an apply change locks (engine/apply.ts tableKeys)', () => {
  const change = (kind: string, address: string, before: unknown, after: unknown) =>
    ({ kind, address, action: 'update', attributes: [], hazards: [], dependsOn: [], before, after }) as unknown as Parameters<typeof tableKeys>[0];

  it('a policy locks its table, a table its own and every table its foreign keys reference before or after', () => {
    expect(tableKeys(change('policy', 'policy.default.public.tasks.tasks_read', null, {}))).toEqual(['default.public.tasks']);
    const files = change(
      'table',
      'table.default.public.files',
      { columns: { task: { references: { table: 'public.tasks' } } } },
      { columns: { task: { references: null }, owner: { references: { table: 'people' } } } },
    );
    expect(tableKeys(files).sort()).toEqual(['default.public.files', 'default.public.people', 'default.public.tasks']);
    // so the DROP TABLE of files never runs beside a DROP POLICY on tasks (a deadlock in PostgreSQL)
    expect(tableKeys(files)).toContain(tableKeys(change('policy', 'policy.default.public.tasks.tasks_insert', {}, null))[0]);
    expect(tableKeys(change('webhook', 'webhook.default.hook', null, {}))).toEqual([]);
  });
});
