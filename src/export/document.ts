/**
 * The exported configuration as a YAML document: fragments (one per live resource, from the
 * handlers' toSpec) placed at their config paths, collections sorted by name (table columns keep
 * their table order), free-form JSON values sorted by key, small maps and lists of scalars in flow
 * style, comments on the values PostgreSQL rewrote, and a header. Built with the `yaml` library's
 * Document API, so quoting and escaping are the library's; the output is deterministic: the same
 * fragments give the same bytes.
 */
import { Document, isMap, isPair, isScalar, isSeq, type Node } from 'yaml';

/** A declaration to place: its config path, its spec and comments relative to the path. */
export interface Placement {
  path: string[];
  spec?: Record<string, unknown>;
  comments?: { path: string[]; text: string }[];
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Places every fragment into one tree (containers are created on the way; specs merge into them). */
export function buildTree(placements: readonly Placement[]): Obj {
  const root: Obj = { version: 1 };
  for (const p of placements) {
    if (!p.spec) continue;
    let node = root;
    for (const key of p.path) {
      if (!isObj(node[key])) node[key] = {};
      node = node[key] as Obj;
    }
    for (const [k, v] of Object.entries(p.spec)) node[k] = isObj(v) && isObj(node[k]) ? { ...(node[k] as Obj), ...v } : v;
  }
  return arrange(root, []);
}

/** Where a fixed key order applies (path with `*` for any key) and what it is. */
const FIXED: [string, string[]][] = [
  ['', ['version', 'settings', 'oauth_providers', 'client_keys', 'tenants']],
  ['settings', ['app', 'auth', 'system']],
  ['tenants.*', ['name', 'metadata', 'schemas', 'webhooks', 'service_keys', 'settings']],
  ['tenants.*.schemas.*.tables.*', ['external', 'columns', 'indexes', 'checks', 'rls', 'realtime', 'lifecycle']],
  ['tenants.*.schemas.*.tables.*.rls', ['enabled', 'policies']],
];

/** Collections keyed by name: sorted. */
const SORTED = [
  'settings.system', 'oauth_providers', 'client_keys', 'tenants', 'tenants.*.schemas', 'tenants.*.schemas.*.tables',
  'tenants.*.schemas.*.tables.*.indexes', 'tenants.*.schemas.*.tables.*.checks', 'tenants.*.schemas.*.tables.*.rls.policies',
  'tenants.*.webhooks', 'tenants.*.service_keys', 'tenants.*.settings.custom',
];

/** Free-form JSON (order carries no meaning): keys sorted at every level. */
const FREE_FORM = [
  'tenants.*.metadata', 'tenants.*.webhooks.*.headers', 'oauth_providers.*.required_claims', 'oauth_providers.*.denied_claims',
  'tenants.*.settings.custom.*.value', 'settings.system.*.value',
];

function matches(pattern: string, path: readonly string[]): boolean {
  const parts = pattern === '' ? [] : pattern.split('.');
  return parts.length === path.length && parts.every((p, i) => p === '*' || p === path[i]);
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function sortDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortDeep);
  if (!isObj(v)) return v;
  return Object.fromEntries(Object.keys(v).sort(byName).map((k) => [k, sortDeep(v[k])]));
}

function arrange(node: Obj, path: string[]): Obj {
  if (FREE_FORM.some((p) => matches(p, path))) return sortDeep(node) as Obj;
  let keys = Object.keys(node);
  const fixed = FIXED.find(([p]) => matches(p, path))?.[1];
  if (fixed) keys = [...fixed.filter((k) => k in node), ...keys.filter((k) => !fixed.includes(k))];
  else if (SORTED.some((p) => matches(p, path))) keys = keys.sort(byName);
  return Object.fromEntries(
    keys.map((k) => {
      const v = node[k];
      if (isObj(v)) return [k, arrange(v, [...path, k])];
      if (Array.isArray(v) && FREE_FORM.some((p) => matches(p, [...path, k]))) return [k, sortDeep(v)];
      return [k, v];
    }),
  );
}

/** Options of {@link renderDocument}. */
export interface RenderRequest {
  tree: Obj;
  /** Comments by absolute config path. */
  comments: readonly { path: string[]; text: string }[];
  /** Paths of the resource declarations themselves: always block style. */
  roots: readonly string[][];
  /** Comment lines at the top of the file (without `#`). */
  header: readonly string[];
}

const FLOW_WIDTH = 80;

/** The YAML text (see module doc). */
export function renderDocument(req: RenderRequest): string {
  const doc = new Document(req.tree);
  const key = (p: readonly string[]) => JSON.stringify(p);
  const roots = new Set(req.roots.map(key));
  const commented = req.comments.map((c) => c.path);
  for (const c of req.comments) {
    const node = doc.getIn(c.path, true) as Node | undefined;
    if (node) node.comment = ` ${c.text}`;
  }
  const walk = (node: unknown, path: string[]) => {
    if (isSeq(node)) {
      if (node.items.every((i) => isScalar(i))) node.flow = true;
      else node.items.forEach((item, i) => walk(item, [...path, String(i)]));
      return;
    }
    if (!isMap(node)) return;
    for (const pair of node.items) if (isPair(pair) && isScalar(pair.key)) walk(pair.value, [...path, String(pair.key.value)]);
    const small = node.items.every((pair) => isPair(pair) && (isScalar(pair.value) || ((isSeq(pair.value) || isMap(pair.value)) && pair.value.flow)));
    const hasComment = commented.some((c) => c.length > path.length && path.every((p, i) => c[i] === p));
    const collection = SORTED.some((p) => matches(p, path));
    if (path.length > 0 && small && !hasComment && !collection && !roots.has(key(path)) && oneLine(node) <= FLOW_WIDTH) node.flow = true;
  };
  walk(doc.contents, []);
  doc.commentBefore = req.header.map((l) => (l === '' ? '' : ` ${l}`)).join('\n');
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

/** Length of a node written in flow style on one line (approximate: JSON length). */
function oneLine(node: Node): number {
  return JSON.stringify(node.toJSON()).length;
}
