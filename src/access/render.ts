/**
 * Access as text, Markdown and JSON: the matrix `fluxbase access` prints, and the delta lines
 * plans show. Renderers decide nothing; every word comes from the model or the delta.
 */
import { canonicalJson } from '../model/canonical.js';
import { VERSION } from '../version.js';
import { describeAccess } from './compute.js';
import { COMMANDS, widening, type AccessDelta, type AccessDeltaEntry, type AccessModel, type RowAccess, type TableAccess } from './types.js';
import { sentence } from './words.js';

/** One line of a plan's access section. */
export interface DeltaLine {
  symbol: '+' | '-' | '~';
  text: string;
  /** The line is part of an AUTHZ_CHANGE hazard. */
  hazard: boolean;
}

/**
 * The delta as lines: table cells first (the commands of one role on one table that change the
 * same way share a line), then who reaches which role.
 */
export function deltaLines(delta: AccessDelta): { tables: DeltaLine[]; reach: DeltaLine[] } {
  const groups = new Map<string, AccessDeltaEntry[]>();
  for (const e of delta.tables) {
    const key = [e.tenant, e.table, e.role, e.effect, e.newTable ?? '', e.droppedTable ?? '', sentence(e, ['SELECT'])].join('\u0000');
    groups.set(key, [...(groups.get(key) ?? []), e]);
  }
  return {
    tables: [...groups.values()].map((list) => {
      const e = list[0]!;
      return {
        symbol: e.effect === 'gains' || e.effect === 'widens' ? '+' : e.effect === 'changes' ? '~' : '-',
        text: list.length === 1 ? e.text : sentence(e, list.map((x) => x.command)),
        hazard: widening(e.effect) && !e.newTable,
      };
    }),
    reach: delta.reach.map((e) => ({ symbol: e.effect === 'gains' ? '+' : e.effect === 'loses' ? '-' : '~', text: e.text, hazard: e.effect === 'gains' && e.reachesRows && !e.newCredential })),
  };
}

/** Escapes text for Markdown HTML contexts, leaving `code spans` as they are. */
export function markdownText(s: string): string {
  return s
    .split(/(`[^`]*`)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')))
    .join('');
}

/** Options of the matrix renderers. */
export interface AccessRenderOptions {
  /** Only this role (`fluxbase access --role anon`). */
  role?: string;
  /** Where the model came from, for the heading (a file or a URL). */
  origin?: string;
}

function rolesOf(t: TableAccess, role: string | undefined): string[] {
  return Object.keys(t.roles).filter((r) => role === undefined || r === role);
}

/** `all` when every command reaches every row, `none` when no command reaches any. */
function uniform(cells: Record<string, RowAccess>): 'all' | 'none' | undefined {
  const levels = new Set(COMMANDS.map((c) => cells[c]!.level));
  return levels.size === 1 && !levels.has('rows') ? ([...levels][0] as 'all' | 'none') : undefined;
}

/** The matrix as text for a terminal. */
export function renderAccessText(model: AccessModel, options: AccessRenderOptions = {}): string {
  const lines: string[] = [];
  lines.push(`Access through Fluxbase's API (${model.source === 'live' ? 'live instance' : 'configuration'}${options.origin ? `: ${options.origin}` : ''})${options.role ? ` for role ${options.role}` : ''}`);
  for (const tenant of model.tenants) {
    lines.push('', `Tenant ${tenant.tenant}`);
    const reach = tenant.reach.filter((r) => !options.role || r.role === options.role);
    for (const r of reach) lines.push(`  ${r.role} is reached by: ${r.via.join('; ')}`);
    if (tenant.tables.length === 0) lines.push('  (no tables)');
    for (const t of tenant.tables) {
      lines.push('', `  ${t.table}  (RLS ${t.rls ? `on${t.forced ? ', forced' : ''}` : 'off'}${t.grantsKnown ? '' : '; privileges unknown, assumed granted'})`);
      for (const role of rolesOf(t, options.role)) {
        const cells = t.roles[role]!;
        const same = uniform(cells);
        const reason = same ? cells.SELECT.reason : undefined;
        if (same === 'none') lines.push(`    ${role.padEnd(15)} nothing${reason ? ` (${reason})` : ''}`);
        else if (same === 'all') lines.push(`    ${role.padEnd(15)} every row, every command${reason ? ` (${reason})` : ''}`);
        else {
          lines.push(`    ${role}`);
          for (const c of COMMANDS) lines.push(`      ${c.padEnd(7)} ${describeAccess(cells[c], c)}`);
        }
      }
    }
  }
  lines.push('', 'Not modelled: ' + model.limits.join('; ') + '.');
  return lines.join('\n');
}

/** A matrix cell in a Markdown table: `none`, `all`, or the predicate as code. */
function markdownCell(a: RowAccess): string {
  if (a.level === 'none') return `— <sub>${markdownText(a.reason ?? '')}</sub>`;
  if (a.level === 'all') return `all${a.reason && a.reason !== 'policies admit every row' ? ` <sub>${markdownText(a.reason)}</sub>` : ''}`;
  const code = (s: string) => `\`${s.replace(/\|/g, '\\|').replace(/`/g, "'")}\``;
  const parts: string[] = [];
  if (a.using !== undefined) parts.push(code(a.using));
  if (a.check !== undefined) parts.push(`new: ${code(a.check)}`);
  return parts.join('<br>');
}

/** The matrix as Markdown (one table per tenant), for a pull request. */
export function renderAccessMarkdown(model: AccessModel, options: AccessRenderOptions = {}): string {
  const out: string[] = [`### Access${options.role ? ` for \`${options.role}\`` : ''} (${model.source === 'live' ? 'live instance' : 'configuration'})`];
  for (const tenant of model.tenants) {
    out.push('', `#### Tenant \`${tenant.tenant}\``, '');
    for (const r of tenant.reach.filter((x) => !options.role || x.role === options.role)) out.push(`- \`${r.role}\`: ${markdownText(r.via.join('; '))}`);
    out.push('', '| Table | RLS | Role | SELECT | INSERT | UPDATE | DELETE |', '| --- | --- | --- | --- | --- | --- | --- |');
    for (const t of tenant.tables) {
      for (const role of rolesOf(t, options.role)) {
        const cells = t.roles[role]!;
        out.push(`| \`${t.table}\` | ${t.rls ? 'on' : '**off**'} | \`${role}\` | ${COMMANDS.map((c) => markdownCell(cells[c])).join(' | ')} |`);
      }
    }
  }
  out.push('', `<sub>Not modelled: ${markdownText(model.limits.join('; '))}.</sub>`);
  return out.join('\n');
}

/** The matrix as one JSON document (format `fluxbase-iac-access`, deterministic). */
export function renderAccessJson(model: AccessModel, options: AccessRenderOptions = {}): string {
  const filtered: AccessModel = options.role
    ? {
        ...model,
        tenants: model.tenants.map((t) => ({
          ...t,
          reach: t.reach.filter((r) => r.role === options.role),
          tables: t.tables.map((x) => ({ ...x, roles: Object.fromEntries(Object.entries(x.roles).filter(([r]) => r === options.role)) })),
        })),
      }
    : model;
  return `${canonicalJson({ format: 'fluxbase-iac-access', formatVersion: 1, tool: { name: 'fluxbase-iac', version: VERSION }, ...(options.role ? { role: options.role } : {}), ...filtered }, 2)}\n`;
}
