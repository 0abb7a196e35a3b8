/**
 * The plan: plain, serialisable data (after terraform internal/plans and pg-schema-diff). The
 * human, JSON and Markdown renderers all read it; apply executes it; `plan --out` saves it. It
 * never holds a plaintext secret: a write-only attribute appears only as `{ sensitive: true }`.
 */
import type { AccessDelta } from '../access/types.js';
import type { Diagnostic } from '../diag/index.js';
import type { ResourceKind } from './resource.js';

/** Version of the saved-plan and `--json` format (docs/plan-format.md). */
export const PLAN_FORMAT_VERSION = 1;

/**
 * What apply will do to one resource. `replace` is delete-then-create (the API cannot change the
 * attribute in place); `no-op` entries are kept so renderers can count unchanged resources.
 */
export type Action = 'create' | 'update' | 'replace' | 'delete' | 'no-op';

/**
 * The closed set of hazards (after pg-schema-diff), each with a one-sentence consequence
 * (docs/hazards.md lists what triggers each):
 * - `DELETES_DATA` — rows, columns, tables, schemas or tenants are dropped;
 * - `LOSES_DATA` — a column type change converts stored values with loss (rounds, truncates,
 *   drops the time of day or the time zone);
 * - `REWRITES_TABLE` — every row is rewritten while an ACCESS EXCLUSIVE lock blocks reads and
 *   writes (a type change that is not binary-coercible, a column added with a volatile default);
 * - `LOCKS_TABLE` — a statement blocks writes (or reads) for time that grows with the table
 *   (index builds, unique and primary keys, SET NOT NULL), because the migrations API runs
 *   every migration in a transaction, where CONCURRENTLY is impossible;
 * - `AUTHZ_CHANGE` — which rows a role can reach changes (policies, RLS);
 * - `WEAKENS_SECURITY` — the security floor is lowered (RLS off, a policy widened to anon or
 *   PUBLIC, sign-up enabled, a password rule, email confirmation or rate limiting relaxed);
 * - `ROTATES_CREDENTIAL`, `BREAKS_SIGN_IN`, `STOPS_DELIVERIES`.
 */
export type HazardType =
  | 'DELETES_DATA'
  | 'LOSES_DATA'
  | 'REWRITES_TABLE'
  | 'LOCKS_TABLE'
  | 'AUTHZ_CHANGE'
  | 'WEAKENS_SECURITY'
  | 'ROTATES_CREDENTIAL'
  | 'BREAKS_SIGN_IN'
  | 'STOPS_DELIVERIES';

/** Every hazard type, in display order. */
export const HAZARD_TYPES: readonly HazardType[] = [
  'DELETES_DATA',
  'LOSES_DATA',
  'REWRITES_TABLE',
  'LOCKS_TABLE',
  'AUTHZ_CHANGE',
  'WEAKENS_SECURITY',
  'ROTATES_CREDENTIAL',
  'BREAKS_SIGN_IN',
  'STOPS_DELIVERIES',
];

/** A risk a change carries; apply refuses it unless its type is in --allow-hazards. */
export interface Hazard {
  type: HazardType;
  /** One sentence: what happens if this is applied. */
  message: string;
}

/** Marker that replaces a write-only or sensitive value anywhere in a plan. */
export interface SensitiveValue {
  sensitive: true;
}

/**
 * One changed attribute. `path` is the attribute path inside the resource
 * (`["columns","email","default"]`). `before`/`after` are absent for additions/removals and are
 * {@link SensitiveValue} for sensitive attributes.
 */
export interface AttributeChange {
  path: string[];
  before?: unknown;
  after?: unknown;
  /** The change cannot be made in place: it forces the resource to be replaced. */
  forcesReplacement?: boolean;
  sensitive?: boolean;
}

/** A change to one resource. */
export interface ResourceChange {
  address: string;
  kind: ResourceKind;
  action: Action;
  /** Display-only explanation (e.g. "deleted outside fluxbase"); apply never reads it. */
  reason?: string;
  /** Live attributes (secrets masked), null when the resource does not exist. */
  before: Record<string, unknown> | null;
  /** Desired attributes (secrets masked), null for deletes. */
  after: Record<string, unknown> | null;
  attributes: AttributeChange[];
  hazards: Hazard[];
  /** Addresses this change must wait for (creates/updates) or that must wait for it (deletes). */
  dependsOn: string[];
  /** Server-side id of the live resource (UUID, or name where the API addresses by name). */
  id?: string;
  /** Fingerprint of the live representation this change was computed from (stale-plan check). */
  liveFingerprint?: string;
  /** SQL this change runs through the migrations API, exactly as apply will send it. */
  sql?: string[];
  /** Set when the resource disappears with its parent (no API call of its own). */
  deletedWith?: string;
  /**
   * The address of the live resource this one is, under its old name (`renamed_from:` in the
   * config; docs/hazards.md "Renames"). Apply renames it on the server and moves its state entry
   * (and those of `renamedChildren`) to the new address; the data stays.
   */
  renamedFrom?: string;
  /** State entries that move with the rename (e.g. the table's policies): [from, to] pairs. */
  renamedChildren?: [string, string][];
  /** Handler-specific planned steps (plain data, no secrets), executed by the handler's apply. */
  steps?: PlannedStep[];
  /**
   * The resource exists live but is not yet managed, and the config imports it: apply records it
   * in state (with no API call of its own when nothing else changes).
   */
  importing?: true;
  /**
   * The configuration's `removed:` stops managing the resource: apply drops it from the state and
   * leaves the live object in place (action `no-op`, no API call).
   */
  forget?: true;
  /** The configuration's `moved:` changed this resource's address from this one (state only). */
  movedFrom?: string;
  /**
   * Apply runs this change before every other one: it closes an exposure (a table without the
   * RLS its configuration declares, e.g. left so by an interrupted apply).
   */
  runsFirst?: true;
}

/** One planned API operation inside a change, e.g. `{ op: 'add_column', column: 'x' }`. */
export interface PlannedStep {
  op: string;
  [k: string]: unknown;
}

/** A live resource that exists but no configuration manages it; never changed by apply. */
export interface UnmanagedResource {
  address: string;
  kind: ResourceKind;
  id?: string;
}

/** Counts for the closing line and the JSON summary. */
export interface PlanSummary {
  add: number;
  change: number;
  destroy: number;
  replace: number;
  unchanged: number;
  /** Resources adopted into state (import). */
  import: number;
  /** Resources dropped from the state and left live (`removed:`). */
  forget?: number;
  /** Resources whose address changed (`moved:`). */
  move?: number;
}

/** A complete plan. */
export interface Plan {
  /** `fluxbase destroy` / `plan --destroy`: every managed resource is deleted. */
  destroy?: true;
  /** `--target`: the plan covers only these addresses and what they depend on. */
  targets?: string[];
  formatVersion: typeof PLAN_FORMAT_VERSION;
  /** The Fluxbase URL the plan was computed against. */
  endpoint: string;
  /** HMAC fingerprint of the desired state (incl. write-only values) the plan was computed from. */
  desiredFingerprint: string;
  /** Fingerprint over every per-resource live fingerprint. */
  liveFingerprint: string;
  /** True when only drift is reported (plan --refresh-only). */
  refreshOnly?: boolean;
  changes: ResourceChange[];
  unmanaged: UnmanagedResource[];
  diagnostics: Diagnostic[];
  summary: PlanSummary;
  /**
   * Who gains or loses access to which rows (src/access/delta.ts): present when the plan changes
   * policies, RLS flags, grants, keys or sign-up in a way that changes the access matrix. Data for
   * policy engines; renderers print its sentences.
   */
  access?: AccessDelta;
}

/** True when a plan would change anything (imports included: they change the state). */
export function hasChanges(plan: Pick<Plan, 'changes'>): boolean {
  return plan.changes.some((c) => c.action !== 'no-op' || c.importing || c.forget || c.movedFrom);
}

/** Computes the summary counts of a list of changes (a replace counts as one add and one destroy). */
export function summarize(changes: readonly ResourceChange[]): PlanSummary {
  const s: PlanSummary = { add: 0, change: 0, destroy: 0, replace: 0, unchanged: 0, import: 0 };
  for (const c of changes) {
    if (c.importing) s.import++;
    if (c.forget) s.forget = (s.forget ?? 0) + 1;
    if (c.movedFrom) s.move = (s.move ?? 0) + 1;
    if (c.action === 'create') s.add++;
    else if (c.action === 'update') s.change++;
    else if (c.action === 'delete') s.destroy++;
    else if (c.action === 'replace') {
      s.replace++;
      s.add++;
      s.destroy++;
    } else if (!c.forget) s.unchanged++;
  }
  return s;
}
