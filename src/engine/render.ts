/**
 * Stage 7 — render: the plan as text for a terminal, in the spirit of Terraform's output
 * (`+`, `~`, `-`, `-/+`, `# forces replacement`, `(sensitive value)`, a closing
 * `Plan: N to add, N to change, N to destroy.` or a distinct `No changes.`). Renderers make no
 * decisions: everything shown comes from the plan object.
 */
import type { AttributeChange, HazardType, Plan, ResourceChange } from '../model/plan.js';
import { deltaLines } from '../access/render.js';

/** Output options. */
export interface RenderOptions {
  /** ANSI colours (only on a TTY without NO_COLOR; the CLI decides). */
  color?: boolean;
}

const SYMBOL: Record<ResourceChange['action'], string> = { create: '+', update: '~', delete: '-', replace: '-/+', 'no-op': ' ' };
const VERB: Record<ResourceChange['action'], string> = {
  create: 'will be created',
  update: 'will be updated in place',
  delete: 'will be destroyed',
  replace: 'must be replaced',
  'no-op': 'is unchanged',
};

/** What each action means in a refresh-only (drift) report: a difference, not an intention. */
const DRIFT: Record<ResourceChange['action'], string> = {
  create: 'is declared but missing from the live instance',
  update: 'differs from the configuration',
  delete: 'is live and managed but no longer declared',
  replace: 'differs from the configuration',
  'no-op': 'is not managed yet (import)',
};

const DRIFT_LEGEND: Record<'create' | 'update' | 'delete' | 'replace', string> = {
  create: 'missing live',
  update: 'differs',
  delete: 'no longer declared',
  replace: 'differs (apply would replace it)',
};

/** ANSI styling helpers that become no-ops without colour. */
export function styler(color: boolean | undefined) {
  const wrap = (code: string) => (s: string) => (color ? `\u001b[${code}m${s}\u001b[0m` : s);
  return { green: wrap('32'), yellow: wrap('33'), red: wrap('31'), magenta: wrap('35'), bold: wrap('1'), dim: wrap('2'), cyan: wrap('36') };
}

/** The changes a renderer shows: everything but unchanged resources (imports, `removed:` and `moved:` are shown). */
export function shownChanges(plan: Pick<Plan, 'changes'>): ResourceChange[] {
  return plan.changes.filter((x) => x.action !== 'no-op' || x.importing || x.forget || x.movedFrom);
}

/** What happens to a resource, in words (`will be created`, `has moved from …`). */
export function changeVerb(change: ResourceChange): string {
  if (change.forget) return 'will be removed from the state (the live object is left in place)';
  const verb = change.importing
    ? change.action === 'no-op'
      ? 'will be imported'
      : `will be imported and ${VERB[change.action].replace(/^will be /, '')}`
    : VERB[change.action];
  if (!change.movedFrom) return verb;
  return change.action === 'no-op' ? `has moved from ${change.movedFrom}` : `has moved from ${change.movedFrom} and ${verb}`;
}

/** The full human-readable plan. */
export function renderPlan(plan: Plan, options: RenderOptions = {}): string {
  const c = styler(options.color);
  const colorFor = (a: ResourceChange['action']) => (a === 'create' ? c.green : a === 'update' ? c.yellow : a === 'delete' ? c.red : c.magenta);
  const lines: string[] = [];
  const changes = shownChanges(plan);
  if (plan.unmanaged.length > 0) {
    lines.push(c.bold('Not managed by this configuration (left untouched):'));
    for (const u of plan.unmanaged) lines.push(`  ${c.dim('?')} ${u.address}`);
    lines.push('');
  }
  if (changes.length === 0) {
    lines.push(
      c.bold(c.green(plan.refreshOnly ? 'No drift.' : 'No changes.')) +
        (plan.refreshOnly ? ' The live instance matches the configuration.' : ' Your Fluxbase instance matches the configuration.'),
    );
    return lines.join('\n');
  }
  const used = new Set(changes.map((x) => x.action));
  const drift = plan.refreshOnly === true;
  lines.push(
    drift
      ? 'Drift between the configuration and the live instance (values shown as live -> configuration):'
      : plan.destroy
        ? 'Fluxbase will destroy every resource this configuration manages:'
        : 'Fluxbase will perform the following actions:',
  );
  lines.push('');
  for (const change of changes) {
    const paint = colorFor(change.action);
    const verb = drift ? DRIFT[change.action] : changeVerb(change);
    const first = change.runsFirst && !drift ? c.dim(' (runs first: the table is reachable without its declared RLS until then)') : '';
    lines.push(`  ${c.bold(`# ${change.address}`)} ${verb}${change.reason && !change.importing && !change.forget ? c.dim(` (${change.reason})`) : ''}${first}`);
    const symbol = change.forget ? '=>' : change.importing && change.action === 'no-op' ? '<=' : change.movedFrom && change.action === 'no-op' ? '->' : SYMBOL[change.action];
    lines.push(`  ${paint(symbol.padStart(3))} ${change.address}`);
    for (const line of attributeLines(change)) lines.push(`      ${paintLine(line, c)}`);
    if (!drift) {
      const groups = migrationGroups(change);
      groups.forEach((sql, i) => {
        lines.push(`      ${c.cyan(groups.length > 1 ? `SQL (migration ${i + 1} of ${groups.length}, each in its own transaction):` : 'SQL (applied as a migration):')}`);
        for (const stmt of sql) for (const l of `${stmt};`.split('\n')) lines.push(`        ${l}`);
      });
    }
    if (!drift) for (const h of change.hazards) lines.push(`      ${c.red(`! ${h.type}`)}: ${h.message}`);
    lines.push('');
  }
  if (plan.access && !drift) lines.push(...accessLines(plan, c), '');
  const hazards = hazardCounts(plan);
  if (hazards.size > 0 && !drift) {
    lines.push(
      c.red(c.bold('Hazards: ')) +
        [...hazards.entries()].map(([t, n]) => `${t} (${n})`).join(', ') +
        `. Apply requires --allow-hazards=${[...hazards.keys()].join(',')}.`,
    );
  }
  const legend = (['create', 'update', 'delete', 'replace'] as const)
    .filter((a) => used.has(a))
    .map((a) => `${colorFor(a)(SYMBOL[a])} ${drift ? DRIFT_LEGEND[a] : a === 'replace' ? 'destroy and then create replacement' : a === 'update' ? 'update in place' : a === 'delete' ? 'destroy' : 'create'}`);
  if (legend.length > 0) lines.push(`Symbols: ${legend.join(', ')}`);
  const s = plan.summary;
  lines.push(
    c.bold(
      drift
        ? `Drift: ${changes.length} resource(s) differ from the configuration. Nothing was changed; \`fluxbase plan\` shows what apply would do.`
        : `Plan: ${s.import > 0 ? `${s.import} to import, ` : ''}${s.add} to add, ${s.change} to change, ${s.destroy} to destroy${s.forget ? `, ${s.forget} to forget` : ''}.`,
    ),
  );
  return lines.join('\n');
}

/** The plan's access delta: who gains or loses which rows (`!` marks what AUTHZ_CHANGE gates). */
function accessLines(plan: Plan, c: ReturnType<typeof styler>): string[] {
  const { tables, reach } = deltaLines(plan.access!);
  const paint = (symbol: string) => (symbol === '+' ? c.green : symbol === '-' ? c.red : c.yellow)(symbol);
  const line = (l: { symbol: string; text: string; hazard: boolean }) => `  ${paint(l.symbol)} ${l.text}${l.hazard ? c.red(' !') : ''}`;
  const out = [c.bold('Access changes (who can reach which rows after this apply):')];
  out.push(...tables.map(line));
  if (reach.length > 0) out.push('  Who reaches the roles:', ...reach.map(line));
  return out;
}

/** The SQL of each migration a change runs, in order (the steps' migrations, else its `sql`). */
export function migrationGroups(change: ResourceChange): string[][] {
  const steps = (change.steps ?? []).filter((s) => s.op === 'migration').map((s) => s.sql as string[]);
  if (steps.length > 0) return steps;
  return change.sql && change.sql.length > 0 ? [change.sql] : [];
}

/** Hazard type → number of changes carrying it, in canonical order. */
export function hazardCounts(plan: Pick<Plan, 'changes'>): Map<HazardType, number> {
  const counts = new Map<HazardType, number>();
  for (const change of plan.changes) for (const h of new Set(change.hazards.map((x) => x.type))) counts.set(h, (counts.get(h) ?? 0) + 1);
  return new Map([...counts.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
}

function paintLine(line: string, c: ReturnType<typeof styler>): string {
  if (line.startsWith('+ ')) return c.green('+') + line.slice(1);
  if (line.startsWith('- ')) return c.red('-') + line.slice(1);
  if (line.startsWith('~ ')) return c.yellow('~') + line.slice(1);
  return line;
}

/**
 * Entries by key, as Terraform orders attributes: a live plan (keys in declaration order) and the
 * same plan read back from a saved file (keys sorted) render identically.
 */
function sortedEntries<T>(o: Record<string, T>): [string, T][] {
  return Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** One line per changed attribute, by path (creates: every declared attribute; deletes: none). */
export function attributeLines(change: ResourceChange): string[] {
  if (change.action === 'delete') return [];
  if (change.action === 'create') {
    const sensitive = new Set(change.attributes.filter((a) => a.sensitive).map((a) => a.path.join('.')));
    const lines: string[] = [];
    for (const [k, v] of sortedEntries(change.after ?? {})) {
      if (v === null) continue;
      if (sensitive.has(k)) lines.push(`+ ${k} = (sensitive value)`);
      else if (isMapOfObjects(v)) for (const [key, entry] of sortedEntries(v)) lines.push(`+ ${formatPath([k, key])} = ${formatValue(dropNulls(entry))}`);
      else lines.push(`+ ${k} = ${formatValue(v)}`);
    }
    return lines;
  }
  return change.attributes.map((a) => attributeLine(a));
}

function isMapOfObjects(v: unknown): v is Record<string, Record<string, unknown>> {
  return (
    v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0 &&
    Object.values(v).every((x) => x !== null && typeof x === 'object' && !Array.isArray(x) && (x as { sensitive?: unknown }).sensitive !== true)
  );
}

function dropNulls(v: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null));
}

function attributeLine(a: AttributeChange): string {
  const path = formatPath(a.path);
  const suffix = a.forcesReplacement ? ' # forces replacement' : '';
  const show = (v: unknown) => (a.sensitive ? '(sensitive value)' : formatValue(v));
  if (a.before === undefined) return `+ ${path} = ${show(a.after)}${suffix}`;
  if (a.after === undefined) return `- ${path} = ${show(a.before)}${suffix}`;
  return `~ ${path}: ${show(a.before)} -> ${show(a.after)}${suffix}`;
}

/** `columns.email.default`; keys that are not simple words are quoted: `metadata["a.b"]`. */
export function formatPath(path: readonly string[]): string {
  return path.map((p, i) => (/^[A-Za-z0-9_-]+$/.test(p) ? (i === 0 ? p : `.${p}`) : `[${JSON.stringify(p)}]`)).join('');
}

/** Compact one-line value: strings JSON-quoted, objects as `{ k = v }`, lists as `[a, b]`. */
export function formatValue(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(formatValue).join(', ')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (o.sensitive === true && Object.keys(o).length === 1) return '(sensitive value)';
    const entries = sortedEntries(o).filter(([, x]) => x !== undefined);
    return entries.length === 0 ? '{}' : `{ ${entries.map(([k, x]) => `${/^[A-Za-z0-9_-]+$/.test(k) ? k : JSON.stringify(k)} = ${formatValue(x)}`).join(', ')} }`;
  }
  return String(v);
}
