/**
 * Renames the configuration declares with `renamed_from:` (docs/hazards.md "Renames"), applied
 * to the live state before the plan diffs it — the directive Atlas and sqldef users know, after
 * pg-schema-diff's observation that a rename diffed naively is a drop (the data is gone) plus an
 * add. A resource renamed on the server keeps its rows; the plan shows it as a rename.
 *
 * - A desired resource with `renamedFrom` whose address is not live, while `renamedFrom` is, is
 *   matched with that live resource: the live resource and everything inside it (a table's
 *   policies) are read under the new addresses, and their state entries with them (a view for
 *   planning; apply moves the real entries when the rename succeeds). The change gets a `name`
 *   attribute change, `renamedFrom` and `renamedChildren`.
 * - When the new address is already live the rename is done and the directive does nothing; if the
 *   state still records the old address (an apply interrupted after the server renamed it), the
 *   change carries the rename so apply records the state under the new address.
 * - When neither exists live it is a located error (`plan.reference`), unless the tenant or schema
 *   the resource lives in is not live yet (a fresh environment: there is nothing to rename).
 * - Then each handler's renameInside (a table's columns) runs on the live resources.
 *
 * Not the same as Terraform's `moved` (a new address for the same object in the state only):
 * `renamed_from` renames the live database object.
 */
import { error, type Diagnostic } from '../diag/index.js';
import { formatAddress, parseAddress } from '../model/address.js';
import type { AttributeChange } from '../model/plan.js';
import type { LiveResource } from '../model/resource.js';
import { handlerFor } from '../resources/index.js';
import { removeEntry, setEntry, type StateDocument, type StateEntry } from '../state/document.js';
import type { DesiredState } from './graph.js';
import type { LiveState } from './refresh.js';

/** A resource rename the plan makes. */
export interface PlannedRename {
  /** The live address under the old name. */
  from: string;
  /** State entries inside it that move too: [from, to]. */
  children: [string, string][];
}

/** The live state and state as planning sees them once the declared renames are made. */
export interface RenamePlan {
  live: LiveState;
  state: StateDocument;
  /** By new address. */
  renamed: Map<string, PlannedRename>;
  /** Attribute changes that show renames, by address (added to the diff of that resource). */
  attributes: Map<string, AttributeChange[]>;
  diagnostics: Diagnostic[];
}

/** See module doc. Pure: returns copies and leaves `live` and `state` untouched. */
export function planRenames(req: { desired: DesiredState; live: LiveState; state: StateDocument }): RenamePlan {
  const resources = new Map(req.live.resources);
  const entries = { ...req.state.resources };
  const renamed = new Map<string, PlannedRename>();
  const attributes = new Map<string, AttributeChange[]>();
  const diagnostics: Diagnostic[] = [];
  const childrenOf = (parent: string) => [...resources.values()].filter((r) => r.parent === parent);

  for (const d of req.desired.values()) {
    if (!d.renamedFrom || req.desired.has(d.renamedFrom)) continue;
    const from = d.renamedFrom;
    const old = resources.get(from);
    if (resources.has(d.address)) {
      // Renamed already. An apply interrupted before it saved the state left the old address there.
      if (!old && entries[from] && !entries[d.address]) {
        renamed.set(d.address, { from, children: moveEntries(entries, from, d.address, []) });
      }
      continue;
    }
    if (!old) {
      const parentsLive = d.dependsOn.filter((a) => ['tenant', 'schema'].includes(parseAddress(a)?.kind ?? '')).every((a) => resources.has(a));
      if (parentsLive) {
        diagnostics.push(
          error('plan.reference', `${d.kind} is declared renamed_from ${lastSegment(from)}, but neither ${lastSegment(from)} nor ${lastSegment(d.address)} exists`, {
            address: d.address,
            location: d.sources?.renamed_from ?? d.source,
            detail: `Write the current live name in renamed_from, or remove renamed_from to create ${lastSegment(d.address)} as a new ${d.kind}.`,
          }),
        );
      }
      continue;
    }
    const children = childrenOf(from);
    resources.delete(from);
    resources.set(d.address, { ...old, address: d.address });
    const pairs: [string, string][] = [];
    for (const child of children) {
      const to = moveAddress(child.address, from, d.address);
      resources.delete(child.address);
      resources.set(to, { ...child, address: to, parent: d.address });
      pairs.push([child.address, to]);
    }
    renamed.set(d.address, { from, children: moveEntries(entries, from, d.address, pairs) });
    attributes.set(d.address, [{ path: ['name'], before: lastSegment(from), after: lastSegment(d.address) }]);
  }

  const byParent = new Map<string, LiveResource[]>();
  for (const r of resources.values()) {
    if (!r.parent) continue;
    const list = byParent.get(r.parent);
    if (list) list.push(r);
    else byParent.set(r.parent, [r]);
  }
  for (const d of req.desired.values()) {
    const handler = handlerFor(d.kind);
    const l = resources.get(d.address);
    if (!handler.renameInside || !l) continue;
    const result = handler.renameInside({ desired: d, live: l, children: byParent.get(d.address) ?? [] });
    if (!result) continue;
    resources.set(d.address, result.live);
    for (const child of result.children) resources.set(child.address, child);
    if (result.attributes.length > 0) attributes.set(d.address, [...(attributes.get(d.address) ?? []), ...result.attributes]);
    diagnostics.push(...result.diagnostics.map((x) => ({ ...x, address: x.address ?? d.address })));
  }
  return {
    live: { ...req.live, resources },
    state: { ...req.state, resources: entries },
    renamed,
    attributes,
    diagnostics,
  };
}

/** Moves the state entries of a renamed resource and its children (in `entries`); returns the child pairs that had one. */
function moveEntries(entries: Record<string, StateEntry>, from: string, to: string, children: [string, string][]): [string, string][] {
  const moved: [string, string][] = [];
  for (const [a, b] of [[from, to] as [string, string], ...children]) {
    if (!entries[a] || entries[b]) continue;
    entries[b] = entries[a]!;
    delete entries[a];
    if (a !== from) moved.push([a, b]);
  }
  // Children recorded in the state but not live (none listed) are matched by address prefix.
  for (const a of Object.keys(entries)) {
    const b = moveAddress(a, from, to);
    if (b === a || entries[b] || !isInside(a, from)) continue;
    entries[b] = entries[a]!;
    delete entries[a];
    moved.push([a, b]);
  }
  return moved.sort((x, y) => (x[0] < y[0] ? -1 : 1));
}

/** True when `address` names a resource inside `parent` (its key segments extend the parent's). */
function isInside(address: string, parent: string): boolean {
  const a = parseAddress(address);
  const p = parseAddress(parent);
  return !!a && !!p && a.kind !== p.kind && a.segments.length > p.segments.length && p.segments.every((s, i) => a.segments[i] === s);
}

/** `policy.t.s.old.p` with parent `table.t.s.old` renamed to `table.t.s.new` → `policy.t.s.new.p`. */
function moveAddress(address: string, from: string, to: string): string {
  if (!isInside(address, from)) return address;
  const a = parseAddress(address)!;
  const n = parseAddress(from)!.segments.length;
  return formatAddress(a.kind, [...parseAddress(to)!.segments, ...a.segments.slice(n)]);
}

function lastSegment(address: string): string {
  const p = parseAddress(address);
  return p?.segments[p.segments.length - 1] ?? address;
}

/** Exported for apply: moves real state entries after a rename succeeded. */
export function applyRenameToState(state: StateDocument, from: string, to: string, children: readonly [string, string][]): void {
  for (const [a, b] of [[from, to] as [string, string], ...children]) {
    if (!state.resources[a] || state.resources[b]) continue;
    setEntry(state, b, state.resources[a]!);
    removeEntry(state, a);
  }
}
