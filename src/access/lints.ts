/**
 * Security lints of a configuration (`fluxbase validate` and `fluxbase plan`): warnings with a
 * stable code, the location of the declaration and how to fix it, each silenced in the config
 * with a reason (`lints: { <code>: { reason, only: [addresses] } }`).
 *
 * They cover what the server's own scan reports at `GET /api/v1/admin/security/warnings`
 * (internal/api/policy_handler.go:498-733, checks 1-7) before anything reaches the server, and
 * two things only the access model knows (a policy that can never apply because its role holds
 * no privilege, and a role Fluxbase's API never uses):
 *
 * | code | server check |
 * | --- | --- |
 * | security.rls-disabled | 1 (public only there; here every schema the REST API exposes) |
 * | security.rls-no-policy | 2 |
 * | security.policy-always-true | 3 (`USING (true)` on non-SELECT), and any always-true permissive policy for anon/PUBLIC |
 * | security.anon-write | 4 |
 * | security.missing-with-check | 5 |
 * | security.sensitive-column | 6 |
 * | security.public-role | 7 |
 * | security.policy-without-grant | — |
 * | security.unreachable-role | — |
 */
import { warning, type Diagnostic } from '../diag/index.js';
import { toPointer } from '../engine/source-index.js';
import type { ValidConfig } from '../engine/validate.js';
import type { Policy, Table } from '../model/config.generated.js';
import { policyAddress } from '../resources/policy.js';
import { tableAddress } from '../resources/table.js';
import { INTERNAL_SCHEMAS } from '../sql/identifiers.js';
import { creationGrants } from './model.js';
import { term } from './predicate.js';
import { API_ROLES } from './reach.js';
import type { Command } from './types.js';

/** Every lint code, in documentation order. */
export const LINT_CODES = [
  'security.rls-disabled',
  'security.rls-no-policy',
  'security.policy-always-true',
  'security.anon-write',
  'security.missing-with-check',
  'security.sensitive-column',
  'security.public-role',
  'security.policy-without-grant',
  'security.unreachable-role',
] as const;

/** A lint code. */
export type LintCode = (typeof LINT_CODES)[number];

/** Column names the server's check 6 calls sensitive (policy_handler.go:676). */
const SENSITIVE_COLUMN = /(password|secret|token|api_key|apikey|private_key|credit_card|ssn|social_security)/i;

/** The roles whose policies the server's checks 3 and 5 leave alone (they are meant to see everything). */
const SERVICE_ROLES = new Set(['service_role', 'tenant_service']);

type Path = (string | number)[];

/** Every security lint of a valid config, minus those its `lints:` section silences. Requires loadSqlParser(). */
export function securityLints(valid: ValidConfig): Diagnostic[] {
  const out: Diagnostic[] = [];
  const at = (path: Path, preferKey = true) => ({ path, location: valid.sources.locate(toPointer(path), preferKey) });
  const silence = (code: LintCode) => `Silence it with \`lints: { ${code}: { reason: "…", only: [<address>] } }\` in the config.`;
  const lint = (code: LintCode, summary: string, address: string, path: Path, detail: string) =>
    out.push(warning(code, summary, { ...at(path), address, detail: `${detail} ${silence(code)}` }));

  for (const [slug, tenant] of Object.entries(valid.config.tenants ?? {})) {
    for (const [schema, s] of Object.entries(tenant?.schemas ?? {})) {
      if (INTERNAL_SCHEMAS.has(schema)) continue;
      for (const [name, table] of Object.entries(s?.tables ?? {})) {
        if (!table) continue;
        const tablePath: Path = ['tenants', slug, 'schemas', schema, 'tables', name];
        tableLints({ slug, schema, name, table, tablePath, lint });
      }
    }
  }
  return silenced(valid, out);
}

interface TableLintRequest {
  slug: string;
  schema: string;
  name: string;
  table: Table;
  tablePath: Path;
  lint: (code: LintCode, summary: string, address: string, path: Path, detail: string) => void;
}

function tableLints({ slug, schema, name, table, tablePath, lint }: TableLintRequest): void {
  const qualified = `${schema}.${name}`;
  const address = tableAddress(slug, schema, name);
  const policies = Object.entries(table.rls?.policies ?? {}).filter((e): e is [string, Policy] => e[1] !== undefined);
  const rlsOff = table.rls?.enabled === false || (table.rls?.enabled === undefined && !table.external);
  const rlsPath = table.rls?.enabled === undefined ? tablePath : [...tablePath, 'rls', 'enabled'];
  if (rlsOff) {
    lint('security.rls-disabled', `table ${qualified} has row-level security off: every role with a privilege on it reaches every row`, address, rlsPath,
      `Fluxbase's REST API serves every table outside its own schemas (internal/api/rest_handler.go, schema_cache.go). Add \`rls: { enabled: true }\` and the policies callers need.`);
    const sensitive = Object.keys(table.columns ?? {}).filter((c) => SENSITIVE_COLUMN.test(c));
    if (sensitive.length > 0) {
      lint('security.sensitive-column', `table ${qualified} has sensitive column ${sensitive.join(', ')} but row-level security is off`, address, [...tablePath, 'columns', sensitive[0]!],
        'Enable row-level security before storing secrets, tokens or card numbers in it.');
    }
  }
  if (table.rls?.enabled === true && policies.length === 0) {
    lint('security.rls-no-policy', `table ${qualified} has row-level security on but no policy: only service_role and the table owner reach its rows`, address, [...tablePath, 'rls'],
      'Usually a forgotten policy. Declare the policies callers need under rls.policies.');
  }
  const grants = table.external && !table.grants ? undefined : ({ ...creationGrants(schema), ...(table.grants ?? {}) } as Record<string, readonly string[]>);
  for (const [policyName, p] of policies) {
    policyLints({ slug, schema, table: name, policyName, p, grants, path: [...tablePath, 'rls', 'policies', policyName], lint });
  }
}

interface PolicyLintRequest {
  slug: string;
  schema: string;
  table: string;
  policyName: string;
  p: Policy;
  grants: Record<string, readonly string[]> | undefined;
  path: Path;
  lint: TableLintRequest['lint'];
}

/** Privileges a policy's command needs through the REST API (writes return rows: SELECT too). */
function needed(command: string): Command[][] {
  if (command === 'ALL') return [['SELECT'], ['INSERT', 'SELECT'], ['UPDATE', 'SELECT'], ['DELETE', 'SELECT']];
  return command === 'SELECT' ? [['SELECT']] : [[command as Command, 'SELECT']];
}

function policyLints({ slug, schema, table, policyName, p, grants, path, lint }: PolicyLintRequest): void {
  const qualified = `${schema}.${table}`;
  const address = policyAddress(slug, schema, table, policyName);
  const command = p.command ?? 'ALL';
  const roles = p.roles && p.roles.length > 0 ? p.roles : ['public'];
  const permissive = p.permissive ?? true;
  const usingTrue = term(p.using ?? null) === 'true';
  const checkTrue = term(p.with_check ?? (command === 'INSERT' ? null : (p.using ?? null))) === 'true';
  const open = roles.filter((r) => r === 'anon' || r === 'public');
  const alwaysTrue = command === 'INSERT' ? checkTrue : usingTrue;
  if (permissive && alwaysTrue && (open.length > 0 || (command !== 'SELECT' && command !== 'INSERT' && !roles.some((r) => SERVICE_ROLES.has(r))))) {
    lint('security.policy-always-true', `policy ${policyName} on ${qualified} admits every row${command === 'SELECT' ? '' : ` for ${command}`} to ${roles.join(', ')}`, address, path,
      `Its ${command === 'INSERT' ? 'WITH CHECK' : 'USING'} expression is always true${p.using === undefined && p.with_check === undefined ? ' (it has none)' : ''}. Restrict it to the rows these roles should reach, e.g. \`owner_id = auth.uid()\`.`);
  }
  if (roles.includes('anon') && command !== 'SELECT') {
    lint('security.anon-write', `policy ${policyName} on ${qualified} lets anonymous callers ${command === 'ALL' ? 'write' : command}`, address, [...path, 'roles'],
      'Review whether anonymous writes are intended; callers with an anon key or a client key reach `anon`.');
  }
  if (permissive && (command === 'INSERT' || command === 'UPDATE' || command === 'ALL') && p.with_check === undefined && !roles.includes('service_role')) {
    lint('security.missing-with-check', `policy ${policyName} on ${qualified} has no WITH CHECK for ${command === 'ALL' ? 'INSERT and UPDATE' : command}`, address, path,
      command === 'INSERT'
        ? 'Without WITH CHECK any row may be inserted. Add `with_check:` stating which new rows are allowed.'
        : 'Written rows are then only checked against USING; add `with_check:` to state which new values are allowed (e.g. that a row cannot be handed to another owner).');
  }
  if (roles.includes('public')) {
    lint('security.public-role', `policy ${policyName} on ${qualified} applies to PUBLIC (every database role)`, address, path,
      'A policy without `roles` applies to every role. Name the roles it is for, e.g. `roles: [authenticated]`.');
  }
  for (const role of roles) {
    if (role === 'public') continue;
    if (!API_ROLES.includes(role)) {
      lint('security.unreachable-role', `policy ${policyName} on ${qualified} is for role ${role}, which Fluxbase's API never uses`, address, [...path, 'roles'],
        "The server runs requests as anon, authenticated, service_role or tenant_service only (internal/middleware/rls.go); application roles in a JWT map to authenticated and are visible as auth.jwt() ->> 'role'. Use `roles: [authenticated]` with a condition on the role claim, or keep this for direct database connections.");
      continue;
    }
    if (!grants || SERVICE_ROLES.has(role)) continue;
    const holds = (c: Command) => (grants[role] ?? []).includes(c) || (grants.public ?? []).includes(c);
    if (!needed(command).some((set) => set.every(holds))) {
      const missing = command === 'ALL' ? 'SELECT' : needed(command)[0]!.filter((c) => !holds(c)).join(' and ');
      lint('security.policy-without-grant', `policy ${policyName} on ${qualified} never applies to ${role}: ${role} holds no ${missing} privilege on the table`, address, [...path, 'roles'],
        `Policies only filter rows a role may already access. Fluxbase gives ${role} no privilege on new tables in ${schema}; add \`grants: { ${role}: [${command === 'ALL' ? 'SELECT, INSERT, UPDATE, DELETE' : command === 'SELECT' ? 'SELECT' : `SELECT, ${command}`}] }\` to the table (writes also need SELECT: the API returns the rows it writes).`);
    }
  }
}

/** Drops lints the config's `lints:` section silences; warns about `only` entries that name nothing declared. */
function silenced(valid: ValidConfig, lints: Diagnostic[]): Diagnostic[] {
  const switches = valid.config.lints ?? {};
  const declared = declaredAddresses(valid);
  const unknown: Diagnostic[] = [];
  for (const [code, s] of Object.entries(switches)) {
    (s?.only ?? []).forEach((address, i) => {
      if (declared.has(address)) return;
      const path = ['lints', code, 'only', i];
      unknown.push(warning('config.reference', `lints.${code}.only names ${address}, which the configuration does not declare`, { path, location: valid.sources.locate(toPointer(path)), detail: 'Use the address of a declared table (table.<tenant>.<schema>.<table>) or policy.' }));
    });
  }
  return [...unknown, ...lints.filter((d) => {
    const s = switches[d.code as LintCode];
    if (!s) return true;
    if (!s.only || s.only.length === 0) return false;
    const table = d.address?.startsWith('policy.') ? `table.${d.address.split('.').slice(1, 4).join('.')}` : undefined;
    return !s.only.includes(d.address!) && !(table && s.only.includes(table));
  })];
}

/** Addresses of the declared tables and policies. */
function declaredAddresses(valid: ValidConfig): Set<string> {
  const out = new Set<string>();
  for (const [slug, tenant] of Object.entries(valid.config.tenants ?? {})) {
    for (const [schema, s] of Object.entries(tenant?.schemas ?? {})) {
      for (const [name, table] of Object.entries(s?.tables ?? {})) {
        out.add(tableAddress(slug, schema, name));
        for (const policy of Object.keys(table?.rls?.policies ?? {})) out.add(policyAddress(slug, schema, name, policy));
      }
    }
  }
  return out;
}
