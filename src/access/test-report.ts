/**
 * Results of `fluxbase test` as text for a terminal and as JUnit XML for CI (the format Jenkins,
 * GitLab and GitHub test reporters read: testsuites › testsuite › testcase › failure).
 */
import { styler } from '../engine/render.js';
import { DEFAULT_TENANT_SLUG } from '../resources/tenant.js';
import { requestClaims, type CaseResult } from './test-run.js';
import type { RlsCase } from './test-spec.js';

/** The request a case makes, in one line: `as authenticated {"sub":"…"}: SELECT public.posts WHERE …`. */
export function describeRequest(c: RlsCase): string {
  const claims = JSON.stringify(requestClaims(c));
  const tenant = c.tenant === DEFAULT_TENANT_SLUG ? '' : ` in tenant ${c.tenant}`;
  const statement = `${c.operation.toUpperCase()} ${c.schema}.${c.table}${c.values.length > 0 ? ` ${JSON.stringify(c.values.length === 1 ? c.values[0] : c.values)}` : ''}${c.where ? ` WHERE ${c.where}` : ''}`;
  return `as ${c.role} ${claims}${tenant}: ${statement}`;
}

/** Rows shown in a failure: at most `limit`, one JSON object per line. */
function rowLines(label: string, rows: readonly Record<string, unknown>[], limit = 20): string[] {
  const out = rows.slice(0, limit).map((r, i) => `${i === 0 ? label : ' '.repeat(label.length)}${JSON.stringify(r)}`);
  if (rows.length > limit) out.push(`${' '.repeat(label.length)}… and ${rows.length - limit} more`);
  return out;
}

/** The failure text of one result (empty when it passed). */
export function failureLines(r: CaseResult): string[] {
  if (r.passed) return [];
  return [
    ...r.problems,
    describeRequest(r.case),
    ...(r.case.description ? [r.case.description] : []),
    ...rowLines('offending rows: ', r.offending),
    ...rowLines('missing rows:   ', r.missing),
  ];
}

/** The results as text. */
export function renderResults(results: readonly CaseResult[], options: { color?: boolean } = {}): string {
  const c = styler(options.color);
  const lines: string[] = [];
  for (const r of results) {
    lines.push(`  ${r.passed ? c.green('✓') : c.red('✗')} ${r.case.name}${c.dim(` (${r.ms} ms)`)}`);
    for (const l of failureLines(r)) lines.push(`      ${l}`);
  }
  const failed = results.filter((r) => !r.passed).length;
  lines.push('', failed === 0 ? c.green(c.bold(`${results.length} passed.`)) : c.red(c.bold(`${failed} failed, ${results.length - failed} passed.`)));
  return lines.join('\n');
}

function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');
}

/** The results as a JUnit XML report; `errors` are problems that kept the tests from running. */
export function junitReport(results: readonly CaseResult[], errors: readonly string[] = []): string {
  const failures = results.filter((r) => !r.passed).length;
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const total = results.reduce((n, r) => n + r.ms, 0);
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(`<testsuites name="fluxbase test" tests="${results.length + errors.length}" failures="${failures}" errors="${errors.length}" time="${seconds(total)}">`);
  out.push(`  <testsuite name="fluxbase test" tests="${results.length + errors.length}" failures="${failures}" errors="${errors.length}" time="${seconds(total)}">`);
  for (const e of errors) out.push(`    <testcase classname="fluxbase" name="setup"><error message="${xml(e)}">${xml(e)}</error></testcase>`);
  for (const r of results) {
    const head = `    <testcase classname="tenant.${xml(r.case.tenant)}" name="${xml(r.case.name)}" time="${seconds(r.ms)}"`;
    if (r.passed) out.push(`${head}/>`);
    else out.push(`${head}>`, `      <failure message="${xml(r.problems.join('; '))}">${xml(failureLines(r).join('\n'))}</failure>`, '    </testcase>');
  }
  out.push('  </testsuite>', '</testsuites>');
  return `${out.join('\n')}\n`;
}
