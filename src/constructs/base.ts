/**
 * The tree's building blocks. Every resource construct extends {@link FluxbaseConstruct}; it is
 * placed under an implicit collection that mirrors the config document (a Table named `posts` in
 * Schema `app` of Tenant `acme` has the construct path `tenants/acme/schemas/app/tables/posts`, its
 * place in the document), so names of different kinds never collide and a construct path reads
 * like the YAML. Duplicate names and wrong scopes are recorded, not thrown: `app.synth()`
 * reports every one of them with the other errors.
 */
import { Construct } from 'constructs';
import type { SourceLocation } from '../diag/index.js';
import { callSite } from './site.js';

const FLUXBASE_CONSTRUCT = Symbol.for('fluxbase-iac.constructs.FluxbaseConstruct');
const FLUXBASE_APP = Symbol.for('fluxbase-iac.constructs.FluxbaseApp');
const COLLECTION = Symbol.for('fluxbase-iac.constructs.Collection');

/** Kinds of resource constructs (the engine's resource kinds, settings included). */
export type ResourceConstructKind =
  | 'tenant'
  | 'schema'
  | 'table'
  | 'policy'
  | 'webhook'
  | 'service_key'
  | 'custom_setting'
  | 'oauth_provider'
  | 'client_key'
  | 'system_setting'
  | 'auth_settings'
  | 'app_settings'
  | 'rls_test'
  | 'test_fixtures';

/** What a construct can be created in: the app or a resource construct. */
export type ScopeKind = 'app' | ResourceConstructKind;

/** Where a kind lives in the tree and in the config document. */
export interface Placement {
  /** Class name, for messages. */
  label: string;
  /** Kind of the construct it must be created in. */
  scope: ScopeKind;
  /** Keys between the scope's place in the document and this construct's name. */
  collection: readonly string[];
  /** Singletons (settings) have a fixed name instead of an id. */
  fixedName?: string;
  /** Props keys that are declared as child constructs instead (rejected in props). */
  childKeys?: readonly string[];
}

/** Placement of every kind; the document layout of schemas/fluxbase.config.schema.json. */
export const PLACEMENTS: Readonly<Record<ResourceConstructKind, Placement>> = {
  tenant: { label: 'Tenant', scope: 'app', collection: ['tenants'], childKeys: ['schemas', 'webhooks', 'service_keys', 'settings'] },
  schema: { label: 'Schema', scope: 'tenant', collection: ['schemas'], childKeys: ['tables'] },
  table: { label: 'Table', scope: 'schema', collection: ['tables'] },
  policy: { label: 'Policy', scope: 'table', collection: ['rls', 'policies'] },
  webhook: { label: 'Webhook', scope: 'tenant', collection: ['webhooks'] },
  service_key: { label: 'ServiceKey', scope: 'tenant', collection: ['service_keys'] },
  custom_setting: { label: 'CustomSetting', scope: 'tenant', collection: ['settings', 'custom'] },
  oauth_provider: { label: 'OAuthProvider', scope: 'app', collection: ['oauth_providers'] },
  client_key: { label: 'ClientKey', scope: 'app', collection: ['client_keys'] },
  system_setting: { label: 'SystemSetting', scope: 'app', collection: ['settings', 'system'] },
  auth_settings: { label: 'AuthSettings', scope: 'app', collection: ['settings'], fixedName: 'auth' },
  app_settings: { label: 'AppSettings', scope: 'app', collection: ['settings'], fixedName: 'app' },
  rls_test: { label: 'RlsTest', scope: 'app', collection: ['tests', 'cases'] },
  test_fixtures: { label: 'TestFixtures', scope: 'app', collection: ['tests', 'fixtures'] },
};

/** Props keys of the app that are declared as child constructs. */
export const APP_CHILD_KEYS: readonly string[] = ['version', 'settings', 'oauth_providers', 'client_keys', 'tenants'];

/** The document path pattern of a kind (`*` for names), e.g. `['tenants', '*', 'webhooks', '*']`. */
export function placementPattern(kind: ResourceConstructKind): string[] {
  const p = PLACEMENTS[kind];
  const base = p.scope === 'app' ? [] : placementPattern(p.scope);
  return [...base, ...p.collection, p.fixedName ?? '*'];
}

/** State kept beside each construct, out of its public surface. */
export interface Internals {
  placement?: Placement;
  /** The props as given (secrets as Secret objects), without keys that became child constructs. */
  props: Record<string, unknown>;
  /** Where the user's code created it. */
  site?: SourceLocation;
  /** Set on a second construct with the same name in the same collection. */
  duplicateOf?: FluxbaseConstruct;
}

const INTERNALS = new WeakMap<Construct, Internals>();

/** The internals of a Fluxbase construct or app (undefined for other constructs). */
export function internalsOf(c: Construct): Internals | undefined {
  return INTERNALS.get(c);
}

/** Records the internals of a construct (used by FluxbaseApp and FluxbaseConstruct). */
export function setInternals(c: Construct, internals: Internals): void {
  INTERNALS.set(c, internals);
}

/** Marks a class as the Fluxbase app (symbol on its prototype). */
export function markApp(prototype: object): void {
  Object.defineProperty(prototype, FLUXBASE_APP, { value: true, enumerable: false, writable: false });
}

/** True for a FluxbaseApp from any copy of this library. */
export function isFluxbaseApp(x: unknown): boolean {
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[FLUXBASE_APP] === true;
}

/** The implicit construct that groups children of one kind (`tenants`, `tables`, …). */
class Collection extends Construct {
  /** First construct by natural name. */
  readonly names = new Map<string, FluxbaseConstruct>();

  static isCollection(x: unknown): x is Collection {
    return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[COLLECTION] === true;
  }

  /** The collection at `segments` below `scope`, created on first use. */
  static of(scope: Construct, segments: readonly string[]): Collection {
    let parent = scope;
    for (const segment of segments) {
      const existing = parent.node.tryFindChild(segment);
      parent = Collection.isCollection(existing) ? existing : new Collection(parent, freeId(parent, segment));
    }
    return parent as Collection;
  }
}
Object.defineProperty(Collection.prototype, COLLECTION, { value: true, enumerable: false, writable: false });

/** `id`, or `id~2`, `id~3`… when a child already has it (a duplicate, or two names equal once sanitised). */
function freeId(parent: Construct, id: string): string {
  const base = id === '' ? '(empty)' : id;
  if (!parent.node.tryFindChild(base)) return base;
  for (let n = 2; ; n++) if (!parent.node.tryFindChild(`${base}~${n}`)) return `${base}~${n}`;
}

/**
 * Base of every resource construct. `name` is the natural name (tenant slug, table name, webhook
 * name, setting key…) and the construct id. A second construct with the same name in the same
 * scope is kept in the tree under a spare id and reported by synth as `config.duplicate-key`.
 */
export abstract class FluxbaseConstruct extends Construct {
  /** True for a Fluxbase resource construct from any copy of this library (by symbol). */
  static isFluxbaseConstruct(x: unknown): x is FluxbaseConstruct {
    return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[FLUXBASE_CONSTRUCT] === true;
  }

  /** The natural name: the key of this resource in the config document. */
  readonly name: string;
  /** The resource kind. */
  readonly kind: ResourceConstructKind;

  protected constructor(scope: Construct, name: string, kind: ResourceConstructKind, props: object) {
    const placement = PLACEMENTS[kind];
    const collection = Collection.of(scope, placement.collection);
    const first = collection.names.get(name);
    super(collection, freeId(collection, name));
    this.name = name;
    this.kind = kind;
    if (!first) collection.names.set(name, this);
    const site = callSite();
    setInternals(this, {
      placement,
      props: { ...(props as Record<string, unknown>) },
      ...(site ? { site } : {}),
      ...(first ? { duplicateOf: first } : {}),
    });
  }
}
Object.defineProperty(FluxbaseConstruct.prototype, FLUXBASE_CONSTRUCT, { value: true, enumerable: false, writable: false });

/** The nearest ancestor that is not an implicit collection. */
export function ownerOf(c: Construct): Construct | undefined {
  let s = c.node.scope;
  while (s && Collection.isCollection(s)) s = s.node.scope;
  return s;
}

/** `app`, a resource kind, or undefined for a construct that is not part of this library. */
export function scopeKindOf(c: Construct | undefined): ScopeKind | undefined {
  if (!c) return undefined;
  if (isFluxbaseApp(c)) return 'app';
  return FluxbaseConstruct.isFluxbaseConstruct(c) ? c.kind : undefined;
}

/** A construct's path as the user would write it (a duplicate shows the path it asked for). */
export function displayPath(c: Construct): string {
  const first = internalsOf(c)?.duplicateOf;
  return first ? first.node.path : c.node.path || '(app)';
}
