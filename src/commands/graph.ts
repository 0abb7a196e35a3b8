/**
 * `fluxbase graph`: the dependency graph of the configuration (what must exist before what), or
 * with `--plan FILE` of a saved plan's changes (what apply waits for), as Graphviz DOT or a
 * Mermaid flowchart. Edges point from a resource to what it depends on, as `terraform graph`
 * draws them. Makes no API call.
 */
import { readFile } from 'node:fs/promises';
import { error, hasErrors } from '../diag/index.js';
import { buildDesired } from '../engine/graph.js';
import { parsePlanDocument } from '../engine/plan-document.js';
import type { ResourceChange } from '../model/plan.js';
import { loadEither, type ConfigOptions } from './common.js';
import { printDiagnostics, type CommandIO } from './io.js';

/** Options of `fluxbase graph`. */
export interface GraphOptions extends Pick<ConfigOptions, 'config' | 'app'> {
  format?: 'dot' | 'mermaid';
  /** A saved plan: draw its changes instead of the configuration. */
  plan?: string;
}

/** A node (address and a label) and the edges from it. */
interface Node {
  address: string;
  label: string;
  dependsOn: string[];
}

const SYMBOL: Record<ResourceChange['action'], string> = { create: '+', update: '~', delete: '-', replace: '-/+', 'no-op': '' };

/** Runs `fluxbase graph`; 0 on success, 1 when the configuration or plan cannot be read. */
export async function graphCommand(io: CommandIO, options: GraphOptions): Promise<number> {
  const nodes = options.plan ? await planNodes(io, options.plan) : await configNodes(io, options);
  if (!nodes) return 1;
  io.out(options.format === 'mermaid' ? mermaid(nodes) : dot(nodes));
  return 0;
}

async function configNodes(io: CommandIO, options: GraphOptions): Promise<Node[] | undefined> {
  const loaded = await loadEither(io, { config: options.config, app: options.app });
  if (!loaded) return undefined;
  if (!loaded.valid || hasErrors(loaded.diagnostics)) {
    printDiagnostics(io, loaded.diagnostics);
    return undefined;
  }
  return [...buildDesired(loaded.valid).values()].map((r) => ({ address: r.address, label: r.address, dependsOn: r.dependsOn }));
}

async function planNodes(io: CommandIO, file: string): Promise<Node[] | undefined> {
  const text = await readFile(file, 'utf8').catch((e: Error) => e);
  const parsed = typeof text === 'string' ? parsePlanDocument(text, { allowRefreshOnly: true }) : { problem: text.message };
  if (!parsed.doc) {
    printDiagnostics(io, [error('plan.format', `cannot graph ${file}: ${parsed.problem}`)]);
    return undefined;
  }
  return parsed.doc.changes
    .filter((c) => c.action !== 'no-op' || c.importing || c.forget || c.movedFrom)
    .map((c) => ({ address: c.address, label: `${SYMBOL[c.action]} ${c.address}`.trim(), dependsOn: c.dependsOn }));
}

/** Graphviz DOT, nodes and edges sorted so the output is deterministic. */
function dot(nodes: Node[]): string {
  const q = (s: string) => JSON.stringify(s);
  const known = new Set(nodes.map((n) => n.address));
  const sorted = [...nodes].sort((a, b) => (a.address < b.address ? -1 : 1));
  const lines = ['digraph fluxbase {', '  rankdir = "RL";', '  node [shape = box, fontname = "monospace"];'];
  for (const n of sorted) lines.push(`  ${q(n.address)}${n.label !== n.address ? ` [label = ${q(n.label)}]` : ''};`);
  for (const n of sorted) for (const d of [...n.dependsOn].sort()) if (known.has(d)) lines.push(`  ${q(n.address)} -> ${q(d)};`);
  lines.push('}');
  return lines.join('\n');
}

/** A Mermaid flowchart (node ids n0, n1… with the addresses as labels). */
function mermaid(nodes: Node[]): string {
  const sorted = [...nodes].sort((a, b) => (a.address < b.address ? -1 : 1));
  const id = new Map(sorted.map((n, i) => [n.address, `n${i}`]));
  const lines = ['flowchart RL'];
  for (const n of sorted) lines.push(`  ${id.get(n.address)}["${n.label.replace(/"/g, '#quot;')}"]`);
  for (const n of sorted) for (const d of [...n.dependsOn].sort()) if (id.has(d)) lines.push(`  ${id.get(n.address)} --> ${id.get(d)}`);
  return lines.join('\n');
}
