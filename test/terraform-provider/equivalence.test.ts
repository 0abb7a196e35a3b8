/**
 * `fluxbase plan` (the CLI, node dist/cli.js plan --json) and `terraform plan` with the provider
 * (terraform show -json of a saved plan) on equivalent configurations of the same live objects
 * must touch the same resources with the same actions: one create, updates of a table, a webhook
 * and a key, replacements (a policy's command cannot change in place; the real server cannot update a
 * service key's description, F11) and a delete.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { formatAddress } from '../../src/model/address.js';
import { changesOf, Workspace } from '../e2e/harness.js';
import { kindByType } from '../../src/terraform-provider/kinds.js';
import { buildProvider, FluxbaseWorkspace, startTestEmulator } from './helpers.js';

interface Variant {
  changed: boolean;
}

const hcl = ({ changed }: Variant) => `
resource "fluxbase_tenant" "globex" {
  slug = "globex"
  name = "Globex"
}
resource "fluxbase_table" "orders" {
  tenant = fluxbase_tenant.globex.slug
  schema = "public"
  name   = "orders"
  columns = {
    id       = { type = "bigint", primary_key = true }
    customer = { type = "uuid", nullable = false }
    total    = { type = "numeric(10,2)", nullable = false, default = 0 }${changed ? '\n    note     = { type = "text" }' : ''}
  }
  rls = { enabled = true }
}
resource "fluxbase_rls_policy" "customer_read" {
  tenant  = fluxbase_tenant.globex.slug
  schema  = "public"
  table   = fluxbase_table.orders.name
  name    = "customer_read"
  command = "${changed ? 'ALL' : 'SELECT'}"
  roles   = ["authenticated"]
  using   = "customer = auth.uid()"
}
resource "fluxbase_webhook" "orders" {
  tenant            = fluxbase_tenant.globex.slug
  name              = "orders"
  url               = "https://hooks.globex.example/${changed ? 'v2/' : ''}orders"
  events            = [{ table = "public.orders", operations = ["INSERT"] }]
  secret_wo         = "s3cret"
  secret_wo_version = 1
}
resource "fluxbase_service_key" "reporting" {
  tenant      = fluxbase_tenant.globex.slug
  name        = "reporting"
  description = "${changed ? 'Nightly reports' : 'Reports'}"
  scopes      = ["tables:read"]
}
${
  changed
    ? `resource "fluxbase_webhook" "audit" {
  tenant = fluxbase_tenant.globex.slug
  name   = "audit"
  url    = "https://audit.globex.example/in"
  events = [{ table = "public.orders", operations = ["UPDATE", "DELETE"] }]
}`
    : `resource "fluxbase_service_key" "legacy" {
  tenant = fluxbase_tenant.globex.slug
  name   = "legacy"
  scopes = ["tables:read"]
}`
}
`;

const yaml = ({ changed }: Variant, _imports: string[]) => `version: 1
tenants:
  globex:
    name: Globex
    schemas:
      public:
        tables:
          orders:
            columns:
              id:       { type: bigint, primary_key: true }
              customer: { type: uuid, nullable: false }
              total:    { type: "numeric(10,2)", nullable: false, default: 0 }${changed ? '\n              note:     { type: text }' : ''}
            rls:
              enabled: true
              policies:
                customer_read:
                  command: ${changed ? 'ALL' : 'SELECT'}
                  roles: [authenticated]
                  using: customer = auth.uid()
    webhooks:
      orders:
        url: https://hooks.globex.example/${changed ? 'v2/' : ''}orders
        events: [{ table: public.orders, operations: [INSERT] }]
        secret: s3cret${
          changed
            ? `
      audit:
        url: https://audit.globex.example/in
        events: [{ table: public.orders, operations: [UPDATE, DELETE] }]`
            : ''
        }
    service_keys:
      reporting:
        description: ${changed ? 'Nightly reports' : 'Reports'}
        scopes: ["tables:read"]${changed ? '' : '\n      legacy:\n        scopes: ["tables:read"]'}
`;

/** The engine address of a Terraform resource change (from its identity attributes). */
function engineAddress(type: string, values: Record<string, unknown>): string {
  const info = kindByType(type)!;
  return formatAddress(info.kind, info.identity.map((n) => values[n] as string));
}

const ACTIONS: Record<string, string> = { create: 'create', update: 'update', delete: 'delete', 'delete,create': 'replace', 'create,delete': 'replace' };

describe('fluxbase plan and terraform plan agree', () => {
  let emulator: RunningEmulator;
  let tf: FluxbaseWorkspace;
  let cli: Workspace;

  beforeAll(async () => {
    const [em, built] = await Promise.all([startTestEmulator(), buildProvider()]);
    emulator = em;
    tf = new FluxbaseWorkspace(built.exe, emulator);
    built.remove();
    cli = await Workspace.create(emulator, 'version: 1\n');
  });
  afterAll(async () => {
    tf?.remove();
    await cli?.dispose();
    await emulator?.close();
  });

  it('starts from the same live objects, managed by both tools', async () => {
    tf.config(hcl({ changed: false }));
    await tf.ok(['init']);
    await tf.ok(['apply', '-auto-approve']);
    // The CLI adopts what Terraform created (fluxbase import), sends the webhook secret once (its
    // state has no fingerprint of it yet), and then both tools see nothing to do.
    const addresses = ['tenant.globex', 'table.globex.public.orders', 'policy.globex.public.orders.customer_read', 'webhook.globex.orders', 'service_key.globex.reporting', 'service_key.globex.legacy'];
    await cli.write(yaml({ changed: false }, []));
    const adopt = await cli.cli(['import', ...addresses]);
    expect(adopt.code, adopt.stdout + adopt.stderr).toBe(0);
    const secret = await cli.cli(['apply', '--auto-approve']);
    expect(secret.code, secret.stdout + secret.stderr).toBe(0);
    expect(secret.stdout).toContain('0 added, 1 changed, 0 destroyed');
    const clean = await cli.cli(['plan', '--json']);
    expect(clean.code, clean.stderr).toBe(0);
    expect(changesOf(clean.stdout)).toEqual([]);
    await tf.ok(['plan', '-detailed-exitcode']);
  });

  it('plans the same change with the same actions on the same resources', async () => {
    tf.config(hcl({ changed: true }));
    await cli.write(yaml({ changed: true }, []));
    const fluxbase = await cli.cli(['plan', '--json']);
    expect(fluxbase.code, fluxbase.stderr).toBe(0);
    const fromCli = changesOf(fluxbase.stdout).sort();

    await tf.ok(['plan', '-out', 'change.tfplan']);
    const shown = JSON.parse((await tf.ok(['show', '-json', 'change.tfplan'])).stdout) as {
      resource_changes: { type: string; change: { actions: string[]; before: Record<string, unknown> | null; after: Record<string, unknown> | null } }[];
    };
    const fromTerraform = shown.resource_changes
      .filter((c) => c.change.actions.join(',') !== 'no-op')
      .map((c) => [engineAddress(c.type, (c.change.after ?? c.change.before)!), ACTIONS[c.change.actions.join(',')]!] as [string, string])
      .sort();

    expect(fromCli).toEqual([
      ['policy.globex.public.orders.customer_read', 'replace'],
      ['service_key.globex.legacy', 'delete'],
      ['service_key.globex.reporting', 'replace'], // the real PUT /service-keys/{id} answers 500 (F11): both tools replace
      ['table.globex.public.orders', 'update'],
      ['webhook.globex.audit', 'create'],
      ['webhook.globex.orders', 'update'],
    ]);
    expect(fromTerraform).toEqual(fromCli);
  });
});
