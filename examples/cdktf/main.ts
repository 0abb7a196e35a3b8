/**
 * A CDKTF app with Fluxbase resources next to Terraform's built-in `terraform_data`, using the
 * generated bindings (`fluxbase-iac/cdktf`, from the provider's schema):
 *
 * - the webhook's URL comes from another resource (`terraform_data.endpoint`, standing in for an
 *   API gateway or a load balancer);
 * - the service key's value flows out: into `terraform_data.secret_store` (standing in for a
 *   secrets manager) and a sensitive stack output.
 *
 * Synthesise with `npx tsx examples/cdktf/main.ts [outdir]` (or `cdktf synth` with cdktf.json),
 * then run terraform in <outdir>/stacks/fluxbase with FLUXBASE_URL and FLUXBASE_TOKEN set.
 * test/terraform-provider/cdktf.test.ts synthesises and applies it against the emulator.
 */
import { App, DataResource, LocalBackend, TerraformOutput, TerraformStack, Token } from 'cdktf';
import type { Construct } from 'constructs';
import { provider, rlsPolicy, schema, serviceKey, table, tenant, webhook } from 'fluxbase-iac/cdktf';

/** The stack: one tenant with a table, its policy, a webhook and a service key. */
export class FluxbaseStack extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    // State beside cdk.tf.json (cdktf's default is an absolute path under the synth's working directory).
    new LocalBackend(this, { path: 'terraform.tfstate' });
    // url and token come from FLUXBASE_URL / FLUXBASE_TOKEN when not given here.
    new provider.FluxbaseProvider(this, 'fluxbase', {});

    const endpoint = new DataResource(this, 'endpoint', { input: { url: 'https://hooks.example.com/fluxbase/orders' } });

    const shop = new tenant.Tenant(this, 'shop', { slug: 'shop', name: 'Shop' });
    // The orders live in the default tenant (the main database), where indexes and webhooks
    // work; a tenant with its own database allows less (docs/tenants.md).
    const sales = new schema.Schema(this, 'sales', { tenant: 'default', name: 'sales' });
    const orders = new table.Table(this, 'orders', {
      tenant: 'default',
      schema: sales.name,
      name: 'orders',
      // keyed by column name; a new table gets its primary key first, then the others by name
      columns: {
        id: { type: 'uuid', primaryKey: true, default: 'gen_random_uuid()' },
        customer: { type: 'uuid', nullable: false },
        total: { type: 'numeric(10,2)', nullable: false, default: '0' },
        created_at: { type: 'timestamptz', nullable: false, default: 'now()' },
      },
      indexes: { orders_customer_idx: { columns: ['customer'] } },
      rls: { enabled: true },
    });
    new rlsPolicy.RlsPolicy(this, 'customer_read', {
      tenant: 'default',
      schema: sales.name,
      table: orders.name,
      name: 'orders_customer_read',
      command: 'SELECT',
      roles: ['authenticated'],
      using: 'customer = auth.uid()',
    });
    new webhook.Webhook(this, 'orders_hook', {
      tenant: 'default',
      name: 'orders',
      url: Token.asString(endpoint.output.lookup('url')),
      events: [{ table: 'sales.orders', operations: ['INSERT', 'UPDATE'] }],
      secretWo: 'change-me',
      secretWoVersion: 1,
    });
    const key = new serviceKey.ServiceKey(this, 'reporting', { tenant: shop.slug, name: 'reporting', scopes: ['tables:read'] });

    new DataResource(this, 'secret_store', { input: { reporting_key: key.key } });
    new TerraformOutput(this, 'reporting_key', { value: key.key, sensitive: true });
    new TerraformOutput(this, 'orders_table', { value: orders.id });
  }
}

/** Synthesises the app into `outdir` (cdk.tf.json in <outdir>/stacks/fluxbase). */
export function synth(outdir: string): void {
  const app = new App({ outdir });
  new FluxbaseStack(app, 'fluxbase');
  app.synth();
}

if (import.meta.url === `file://${process.argv[1]}`) synth(process.argv[2] ?? 'cdktf.out');
