/**
 * The lifecycle controls a Terraform user reaches for, as plan-stage steps:
 *
 * - `moved:` ({@link applyMoves}) — before planning, the state's entry for `from` becomes the
 *   entry for `to` (write-only fingerprints re-keyed to the new address when the declared value
 *   is unchanged); the change at `to` is marked `movedFrom`.
 * - `removed:` ({@link removedAddresses}) — managed resources dropped from the state and left live.
 * - `--replace ADDRESS` ({@link forceReplace}) — a managed resource deleted and created again.
 * - `--target ADDRESS` ({@link targetChanges}) — the plan narrowed to the targets and what they
 *   need: for creates and updates, the resources they depend on; for deletes, the deletes that
 *   must happen before them (resources inside or referencing them), as Terraform does.
 */
import { error, warning, type Diagnostic } from '../diag/index.js';
import type { ResourceChange } from '../model/plan.js';
import { removeEntry, secretFingerprint, setEntry, type StateDocument } from '../state/document.js';
import type { DesiredState } from './graph.js';
import type { LiveState } from './refresh.js';

/** One `moved:` entry. */
export interface Move {
  from: string;
  to: string;
}

/**
 * Applies `moved:` entries to the state in place. Returns the moves made (to → from) and the
 * problems found: both addresses managed at once, or a move whose live object still has the old
 * address (a move changes addresses, not live objects). Entries already applied do nothing.
 */
export function applyMoves(req: { state: StateDocument; moves: readonly Move[]; desired: DesiredState; live: LiveState }): {
  moved: Map<string, string>;
  diagnostics: Diagnostic[];
} {
  const { state } = req;
  const moved = new Map<string, string>();
  const diagnostics: Diagnostic[] = [];
  for (const { from, to } of req.moves) {
    const entry = state.resources[from];
    if (!entry) continue;
    const d = req.desired.get(to);
    if (state.resources[to]) {
      diagnostics.push(
        error('plan.moved', `cannot move ${from} to ${to}: both are managed`, {
          address: to,
          location: d?.source,
          detail: `Remove the \`moved:\` entry, or stop managing one of them first (\`fluxbase state rm ${from}\`).`,
        }),
      );
      continue;
    }
    const liveFrom = req.live.resources.get(from);
    if (!req.live.resources.has(to) && liveFrom && (!entry.id || liveFrom.id === entry.id)) {
      diagnostics.push(
        error('plan.moved', `the live object of ${from} still has its old address, so ${to} would be created next to it`, {
          address: to,
          location: d?.source,
          detail: `A \`moved:\` entry changes the address in the state, not the live object. Rename the live object first (or use \`renamed_from\` where the kind supports it), or drop the \`moved:\` entry to create ${to} and delete ${from}.`,
        }),
      );
      continue;
    }
    moveEntry(state, from, to, d?.writeOnly ?? {});
    moved.set(to, from);
  }
  return { moved, diagnostics };
}

/**
 * Moves the state's entry from one address to another (`moved:`, `fluxbase state mv`), with its
 * write-only fingerprints re-keyed where `declared` (the write-only values declared at `to`)
 * still matches them. The caller checks that `from` exists and `to` does not.
 */
export function moveEntry(state: StateDocument, from: string, to: string, declared: Record<string, string | null>): void {
  const entry = state.resources[from]!;
  const writeOnly = entry.writeOnly ? rekey(entry.writeOnly, from, to, state.salt, declared) : undefined;
  setEntry(state, to, { ...entry, ...(writeOnly ? { writeOnly } : {}) });
  removeEntry(state, from);
}

/**
 * Write-only fingerprints are salted with the address: one recorded under `from` is re-keyed to
 * `to` when the declared value still matches it, and otherwise kept (so the plan re-sends it).
 */
function rekey(recorded: Record<string, string | null>, from: string, to: string, salt: string, declared: Record<string, string | null>): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const [attr, fp] of Object.entries(recorded)) {
    const value = declared[attr];
    const same = fp !== null && typeof value === 'string' && secretFingerprint(salt, `${from}#${attr}`, value) === fp;
    out[attr] = same ? secretFingerprint(salt, `${to}#${attr}`, value) : fp;
  }
  return out;
}

/**
 * The managed addresses `removed:` covers: each listed address and every managed resource inside
 * it (a table's policies, a tenant's contents), found through the live parent chain.
 */
export function removedAddresses(removed: readonly string[], state: StateDocument, live: LiveState): Set<string> {
  const roots = new Set(removed);
  const out = new Set<string>();
  for (const address of Object.keys(state.resources)) {
    let at: string | undefined = address;
    while (at) {
      if (roots.has(at)) {
        out.add(address);
        break;
      }
      at = live.resources.get(at)?.parent;
    }
  }
  return out;
}

/**
 * Turns the changes of `--replace` addresses into replacements (before the handlers plan them).
 * Each must be a managed resource that exists and is declared; built-in objects and tenants (the
 * server keeps a deleted tenant's slug, so it could not be created again) cannot be replaced.
 */
export function forceReplace(req: {
  changes: ResourceChange[];
  addresses: ReadonlySet<string>;
  reason: (address: string) => string;
  desired: DesiredState;
  live: LiveState;
  state: StateDocument;
}): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const address of req.addresses) {
    const change = req.changes.find((c) => c.address === address);
    const d = req.desired.get(address);
    const l = req.live.resources.get(address);
    const problem = !d
      ? 'the configuration does not declare it'
      : !l
        ? 'it does not exist on the server'
        : d.builtin || l.builtin
          ? 'it is built in (it is never deleted)'
          : d.kind === 'tenant'
            ? 'the server keeps the slug of a deleted tenant, so it could not be created again'
            : !change || (!req.state.resources[address] && !change.importing)
              ? 'it is not managed by this configuration'
              : undefined;
    if (problem) {
      out.push(error('plan.replace', `cannot replace: ${problem}`, { address, location: d?.source }));
      continue;
    }
    if (change!.action === 'no-op' || change!.action === 'update') {
      change!.action = 'replace';
      change!.reason = req.reason(address);
    }
  }
  return out;
}

/**
 * Keeps only the changes `--target` asks for and what they need (see module doc). Unknown
 * targets are errors; a targeted plan carries a warning that it is partial.
 */
export function targetChanges(req: {
  changes: ResourceChange[];
  targets: readonly string[];
  desired: DesiredState;
  live: LiveState;
  state: StateDocument;
}): { changes: ResourceChange[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const byAddress = new Map(req.changes.map((c) => [c.address, c]));
  const keep = new Set<string>();
  const visit = (address: string) => {
    if (keep.has(address)) return;
    keep.add(address);
    const change = byAddress.get(address);
    const deps = change && change.action === 'delete' ? change.dependsOn : (req.desired.get(address)?.dependsOn ?? []);
    for (const dep of deps) visit(dep);
    for (const child of req.changes) if (child.deletedWith === address) visit(child.address);
  };
  for (const target of req.targets) {
    if (!req.desired.has(target) && !req.state.resources[target] && !req.live.resources.has(target)) {
      diagnostics.push(
        error('plan.target', `--target ${target}: no such resource in the configuration, the state or the server`, {
          detail: 'Use an address as `fluxbase state list` or `fluxbase plan` prints it, e.g. webhook.acme.signups.',
        }),
      );
      continue;
    }
    visit(target);
  }
  const changes = req.changes.filter((c) => keep.has(c.address));
  const left = req.changes.filter((c) => !keep.has(c.address) && (c.action !== 'no-op' || c.importing || c.forget || c.movedFrom)).length;
  diagnostics.push(
    warning('plan.target', `resource targeting is in effect: the plan covers ${req.targets.join(', ')} and what they depend on`, {
      detail: `${left} other change(s) are left out. Use --target for exceptional cases only (recovering from a mistake, working around an API limit); run plan without it to see every change.`,
    }),
  );
  return { changes, diagnostics };
}
