/**
 * Applying one change (the scheduler is in apply.ts). The order of events is what makes every
 * interruption recoverable (docs/state.md, "Pending operations"):
 *
 * 1. every change of the plan is recorded in `state.pending` before the first call (apply.ts);
 *    this one is marked started and the state persisted — before its first API call;
 * 2. the handler makes its calls; a new key's value is handed to the user the moment the server
 *    returns it (and the pending record marked `revealed`); a table records each finished step;
 * 3. the result — the managed entry, or its removal for a delete — replaces the pending record
 *    in one state write. The change does not wait for that write: every later write holds it, so
 *    a dependant's `started` mark is never durable without it, and the write usually carries the
 *    next change's `started` mark too (one write where there were two).
 *
 * Killed anywhere, the state holds either the result or the pending record, which the next run
 * resolves (engine/pending.ts). A delete whose call fails is confirmed with a read: a target that
 * is already gone counts as deleted, whatever the server answered (webhooks answer 500 and
 * policies 400 when they are gone).
 */
import { ApiError, NetworkError } from '../client/errors.js';
import type { FluxbaseClient } from '../client/http.js';
import type { ResourceChange } from '../model/plan.js';
import type { ResourceKind, TenantRef } from '../model/resource.js';
import { handlerFor } from '../resources/index.js';
import type { ApplyRequest, ApplyResult } from '../resources/types.js';
import { addPending, clearPending, pendingFor, removeEntry, secretFingerprint, setEntry, type PendingOperation, type StateDocument } from '../state/document.js';
import type { DesiredState } from './graph.js';
import { desiredAttrsFingerprint } from './pending.js';
import { readLive } from './refresh.js';
import { applyRenameToState } from './rename.js';

/** A new key value, for the user's eyes only (never logged or stored). */
export interface RevealedValue {
  address: string;
  name: string;
  value: string;
}

/** What applying one change needs (shared by every change of one apply). */
export interface ChangeContext {
  client: FluxbaseClient;
  desired: DesiredState;
  /** Live tenants by slug; tenants created by this apply are added. */
  tenants: Map<string, TenantRef>;
  state: StateDocument;
  /** Persists `state` (see engine/state-writer.ts). */
  persist: () => Promise<void>;
  /**
   * Asks for a write of `state` without waiting for it: later writes hold the change made before
   * it, and a failed write stops the apply (no change starts after it; apply reports it).
   */
  persistSoon: () => void;
  now: () => Date;
  /** Hands a new key value to the user (terminal or --secrets-out) before anything else happens. */
  reveal: (value: RevealedValue) => Promise<void>;
  /** Warnings a handler reported (e.g. a setting the server ignores). */
  warn: (d: NonNullable<ApplyResult['warnings']>[number]) => void;
}

/**
 * Applies one change as described in the module doc. Throws what the handler threw (ApiError,
 * NetworkError, …) when the change failed; its pending record then stays for the next run.
 */
export async function applyChange(ctx: ChangeContext, change: ResourceChange): Promise<void> {
  if (change.forget) {
    removeEntry(ctx.state, change.address);
    await ctx.persist();
    return;
  }
  const handler = handlerFor(change.kind);
  const desired = ctx.desired.get(change.address);
  const slug = desired?.tenant ?? tenantOf(change);
  const tenant = slug ? ctx.tenants.get(slug) : undefined;
  if (slug && change.kind !== 'tenant' && !tenant) throw new Error(`tenant ${slug} is not known for ${change.address}`);

  // The record apply made for this change before the first call (apply.ts), else a new one.
  // Records are replaced, never changed in place: the state file keeps the text of each by
  // identity and freezes it (state/text.ts).
  const recorded = change.action === 'no-op' ? undefined : (pendingFor(ctx.state, change.address) ?? pendingOperation(change, ctx));
  let op = recorded && { ...recorded, started: ctx.now().toISOString() };
  if (op) {
    addPending(ctx.state, op);
    await ctx.persist();
  }
  const request: ApplyRequest = {
    client: ctx.client,
    change,
    desired,
    tenant,
    now: ctx.now,
    reveal: async (r) => {
      await ctx.reveal({ address: change.address, ...r });
      if (op) {
        op = { ...op, revealed: true };
        addPending(ctx.state, op);
        await ctx.persist();
      }
    },
    progress: async (done, of) => {
      if (!op) return;
      op = { ...op, steps: { done, of } };
      addPending(ctx.state, op);
      await ctx.persist();
    },
  };

  if (change.action === 'delete') {
    try {
      await handler.delete(request);
    } catch (e) {
      if (!(await alreadyGone(e, change, ctx, tenant))) throw e;
    }
    removeEntry(ctx.state, change.address);
    clearPending(ctx.state, change.address);
    ctx.persistSoon();
    return;
  }
  let result: ApplyResult = {};
  if (change.action === 'no-op') {
    // An import, a move or a resolved operation with nothing to change: only the state is written.
  } else if (change.action === 'create') result = await handler.create(request);
  else if (change.action === 'update') result = await handler.update!(request);
  else {
    try {
      await handler.delete(request);
    } catch (e) {
      if (!(await alreadyGone(e, change, ctx, tenant))) throw e;
    }
    result = await handler.create({ ...request, change: { ...change, action: 'create' } });
  }
  for (const r of result.revealed ?? []) await request.reveal!(r);
  for (const w of result.warnings ?? []) ctx.warn({ ...w, address: w.address ?? change.address });
  const id = result.id ?? change.id;
  if (change.kind === 'tenant' && id && desired) {
    const s = desired.path[1]!;
    ctx.tenants.set(s, { slug: s, id, isDefault: desired.builtin ?? false });
  }
  if (change.renamedFrom) applyRenameToState(ctx.state, change.renamedFrom, change.address, change.renamedChildren ?? []);
  const previous = ctx.state.resources[change.address];
  const writeOnly = op?.writeOnly ?? writeOnlyFingerprints(change.address, ctx);
  setEntry(ctx.state, change.address, {
    kind: change.kind as ResourceKind,
    ...(id ? { id } : {}),
    ...(writeOnly && Object.keys(writeOnly).length > 0 ? { writeOnly } : {}),
    ...(previous?.observed ? { observed: previous.observed } : {}),
    ...(desired?.preventDestroy ? { preventDestroy: true } : {}),
  });
  clearPending(ctx.state, change.address);
  ctx.persistSoon();
}

/**
 * The pending record for a change that calls the API (undefined for state-only changes: imports
 * and moves), not yet started. Records what the next run needs to resolve it without this
 * process. Apply records one for every change of the plan before the first call.
 */
export function pendingOperation(change: ResourceChange, ctx: Pick<ChangeContext, 'desired' | 'state'>): PendingOperation | undefined {
  if (change.action === 'no-op') return undefined;
  const desired = ctx.desired.get(change.address);
  const writeOnly = change.action === 'delete' ? undefined : writeOnlyFingerprints(change.address, ctx);
  return {
    address: change.address,
    kind: change.kind,
    action: change.action,
    ...(change.id ? { id: change.id } : {}),
    ...(desired && change.action !== 'delete' ? { desired: desiredAttrsFingerprint(desired.attrs) } : {}),
    ...(writeOnly && Object.keys(writeOnly).length > 0 ? { writeOnly } : {}),
    ...(desired?.preventDestroy ? { preventDestroy: true } : {}),
    ...(change.hazards.length > 0 ? { hazards: [...new Set(change.hazards.map((h) => h.type))].sort() } : {}),
  };
}

/** Fingerprints of the write-only values the configuration declares for an address. */
function writeOnlyFingerprints(address: string, ctx: Pick<ChangeContext, 'desired' | 'state'>): Record<string, string | null> | undefined {
  const desired = ctx.desired.get(address);
  if (!desired) return undefined;
  const out: Record<string, string | null> = {};
  for (const [attr, value] of Object.entries(desired.writeOnly)) {
    out[attr] = value === null || value === undefined ? null : secretFingerprint(ctx.state.salt, `${address}#${attr}`, value);
  }
  return out;
}

/**
 * After a failed delete: true when the target no longer exists (read back with its kind's list
 * call), so the delete counts as done. False when it still exists or cannot be read.
 */
async function alreadyGone(e: unknown, change: ResourceChange, ctx: ChangeContext, tenant: TenantRef | undefined): Promise<boolean> {
  if (!(e instanceof ApiError || e instanceof NetworkError)) return false;
  try {
    return (await readLive({ client: ctx.client, kind: change.kind, address: change.address, tenant })) === undefined;
  } catch {
    return false;
  }
}

/** The tenant slug of a tenant-scoped change's address. */
export function tenantOf(change: Pick<ResourceChange, 'kind' | 'address'>): string | undefined {
  if (change.kind === 'tenant') return undefined;
  const handler = handlerFor(change.kind);
  return handler.scope === 'tenant' ? change.address.split(/[.[]/)[1] : undefined;
}
