/**
 * The plan as Markdown for a pull-request comment: hazards first, a summary table, one
 * collapsible `<details>` block per changed resource with its attribute changes and SQL, and the
 * resources left unmanaged. Values come from the plan, whose sensitive values are already masked.
 * The output is split into parts under a size limit (GitHub's comment limit is 65,536 characters).
 */
import type { Plan, ResourceChange } from '../model/plan.js';
import { attributeLines, changeVerb, hazardCounts, migrationGroups, shownChanges } from './render.js';
import { deltaLines, markdownText } from '../access/render.js';

/** Default size limit of one part, in characters. */
export const MARKDOWN_PART_LIMIT = 65_000;

const ICON: Record<ResourceChange['action'], string> = { create: '➕', update: '🔄', delete: '🗑️', replace: '♻️', 'no-op': '' };

/** Renders the plan as one or more Markdown parts, each at most `limit` characters. */
export function renderMarkdown(plan: Plan, limit = MARKDOWN_PART_LIMIT): string[] {
  const changes = shownChanges(plan);
  const head: string[] = [];
  head.push(`### Fluxbase plan${plan.refreshOnly ? ' (drift report)' : plan.destroy ? ' (destroy)' : ''}`);
  head.push('');
  const hazards = hazardCounts(plan);
  if (hazards.size > 0 && !plan.refreshOnly) {
    head.push(`> [!CAUTION]`);
    head.push(`> **Hazards:** ${[...hazards.entries()].map(([t, n]) => `\`${t}\` × ${n}`).join(', ')}. Apply needs \`--allow-hazards=${[...hazards.keys()].join(',')}\`.`);
    for (const c of changes) for (const h of c.hazards) head.push(`> - \`${c.address}\` — **${h.type}**: ${markdownText(h.message)}`);
    head.push('');
  }
  if (changes.length === 0) {
    head.push(plan.refreshOnly ? '**No drift.** The live instance matches the configuration.' : '**No changes.** The instance matches the configuration.');
  } else {
    const s = plan.summary;
    const label = plan.refreshOnly
      ? { head: 'Drift', create: 'missing live', update: 'differs', replace: 'differs (replace)', destroy: 'no longer declared' }
      : { head: 'Action', create: 'create', update: 'update in place', replace: 'replace', destroy: 'destroy' };
    head.push(`| ${label.head} | Resources |`);
    head.push('| --- | ---: |');
    head.push(`| ➕ ${label.create} | ${s.add - s.replace} |`);
    head.push(`| 🔄 ${label.update} | ${s.change} |`);
    head.push(`| ♻️ ${label.replace} | ${s.replace} |`);
    head.push(`| 🗑️ ${label.destroy} | ${s.destroy - s.replace} |`);
    head.push('');
    head.push(
      plan.refreshOnly
        ? `**Drift:** ${changes.length} resource(s) differ from the configuration (diffs show live -> configuration). Nothing was changed.`
        : `**Plan:** ${s.import > 0 ? `${s.import} to import, ` : ''}${s.add} to add, ${s.change} to change, ${s.destroy} to destroy${s.forget ? `, ${s.forget} to forget` : ''}.`,
    );
  }
  if (plan.access && !plan.refreshOnly) {
    const { tables, reach } = deltaLines(plan.access);
    const item = (l: { symbol: string; text: string; hazard: boolean }) => `- ${l.hazard ? '⚠️ ' : ''}${l.symbol === '+' ? '➕' : l.symbol === '-' ? '➖' : '🔀'} ${markdownText(l.text)}`;
    head.push('', '#### Access changes', '', 'Who can reach which rows after this apply (⚠️ widens access: gated by `AUTHZ_CHANGE`):', '', ...tables.map(item));
    if (reach.length > 0) head.push('', 'Who reaches the roles:', '', ...reach.map(item));
  }
  const blocks: string[] = [];
  for (const c of changes) {
    const body: string[] = [];
    const lines = attributeLines(c);
    if (lines.length > 0) body.push('```diff', ...lines, '```');
    if (!plan.refreshOnly) {
      const groups = migrationGroups(c);
      groups.forEach((sql, i) => body.push('', groups.length > 1 ? `SQL (migration ${i + 1} of ${groups.length}):` : 'SQL (migration):', '```sql', ...sql.map((x) => `${x};`), '```'));
    }
    const action = c.action === 'no-op' || c.importing || c.movedFrom ? changeVerb(c) : c.action;
    const title = `${ICON[c.action]} <code>${escape(c.address)}</code> — ${escape(action)}${c.hazards.length > 0 ? ` ⚠️ ${[...new Set(c.hazards.map((h) => h.type))].join(', ')}` : ''}${c.reason ? ` (${escape(c.reason)})` : ''}`;
    blocks.push(['<details>', `<summary>${title}</summary>`, '', ...body, '', '</details>'].join('\n'));
  }
  if (plan.unmanaged.length > 0) {
    blocks.push(['<details>', `<summary>Not managed by this configuration (${plan.unmanaged.length}, left untouched)</summary>`, '', ...plan.unmanaged.map((u) => `- \`${u.address}\``), '', '</details>'].join('\n'));
  }
  return split(head.join('\n'), blocks, limit);
}

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Packs the head and blocks into parts under `limit`; a block too large on its own is truncated. */
function split(head: string, blocks: string[], limit: number): string[] {
  const parts: string[] = [];
  let current = head;
  const continued = (n: number) => `### Fluxbase plan (continued, part ${n})\n`;
  for (let block of blocks) {
    if (block.length > limit - 200) block = `${block.slice(0, limit - 400)}\n\n… (truncated: run \`fluxbase plan\` for the full text)\n\n</details>`;
    if (current.length + 2 + block.length > limit) {
      parts.push(current);
      current = continued(parts.length + 1);
    }
    current += `\n\n${block}`;
  }
  parts.push(current);
  return parts;
}
