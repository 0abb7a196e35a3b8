/**
 * `fluxbase show PLANFILE`: renders a plan saved by `fluxbase plan --out` (or a drift report) as
 * text, Markdown or JSON, without contacting the server — for reviewing the artifact a pipeline
 * will apply. The renderers are the ones `fluxbase plan` uses.
 */
import { readFile } from 'node:fs/promises';
import { error } from '../diag/index.js';
import { renderPlan } from '../engine/render.js';
import { renderMarkdown } from '../engine/render-markdown.js';
import { parsePlanDocument, serialisePlan } from '../engine/plan-document.js';
import { printDiagnostics, type CommandIO } from './io.js';
import { MARKDOWN_SPLIT } from './plan.js';

/** Options of `fluxbase show`. */
export interface ShowOptions {
  planFile: string;
  json?: boolean;
  format?: 'text' | 'markdown' | 'json';
}

/** Runs `fluxbase show PLANFILE`; 0 when the file is a plan, 1 otherwise. Makes no API call. */
export async function showCommand(io: CommandIO, options: ShowOptions): Promise<number> {
  const format = options.json ? 'json' : (options.format ?? 'text');
  const text = await readFile(options.planFile, 'utf8').catch((e: Error) => e);
  const parsed = typeof text === 'string' ? parsePlanDocument(text, { allowRefreshOnly: true }) : { problem: text.message };
  if (!parsed.doc) {
    printDiagnostics(io, [error('plan.format', `cannot show ${options.planFile}: ${parsed.problem}`)]);
    return 1;
  }
  const doc = parsed.doc;
  if (format === 'json') {
    io.out(serialisePlan(doc).trimEnd());
    return 0;
  }
  printDiagnostics(io, doc.diagnostics);
  if (format === 'markdown') {
    io.out(renderMarkdown(doc).join(`\n\n${MARKDOWN_SPLIT}\n\n`));
    return 0;
  }
  const resolved = doc.resolved ?? [];
  if (resolved.length > 0) io.out(['Resolved in the state before planning:', ...resolved.map((r) => `  ${r.address ? `${r.address}: ` : ''}${r.message}`), ''].join('\n'));
  io.out(renderPlan(doc, { color: io.color }));
  const made = doc.state ? `state serial ${doc.state.serial}` : 'no state yet';
  io.out(`\nPlanned against ${doc.endpoint} (${made}) by ${doc.tool.name} ${doc.tool.version}.${doc.refreshOnly ? '' : ` Apply exactly this plan with: fluxbase apply ${options.planFile}`}`);
  return 0;
}
