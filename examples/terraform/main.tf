# Fluxbase resources in a Terraform configuration, next to Terraform's built-in terraform_data:
# - the webhook URL flows in from another resource (terraform_data.gateway, standing in for an
#   API gateway or load balancer);
# - the service key's value flows out, into terraform_data.secret_store (standing in for a
#   secrets manager) and a sensitive output.
#
# FLUXBASE_URL and FLUXBASE_TOKEN (or admin_email/admin_password) configure the provider.
# test/terraform-provider/examples.test.ts applies this directory against the emulator.

terraform {
  required_version = ">= 1.11" # write-only attributes (secret_wo)
  required_providers {
    fluxbase = {
      source  = "fluxbase/fluxbase"
      version = "~> 0.1"
    }
  }
}

provider "fluxbase" {}

variable "webhook_secret" {
  type      = string
  sensitive = true
  default   = "change-me"
}

variable "webhook_secret_version" {
  type    = number
  default = 1
}

resource "terraform_data" "gateway" {
  input = { url = "https://gateway.example.com/hooks/fluxbase" }
}

resource "fluxbase_tenant" "acme" {
  slug     = "acme"
  name     = "Acme Corp"
  metadata = jsonencode({ plan = "business" })
}

# The CRM lives in the default tenant (the main database), where every change works: a schema
# of its own, constraints, indexes, realtime, and webhooks that deliver. A tenant with its own
# database allows less: docs/tenants.md.
resource "fluxbase_schema" "crm" {
  tenant = "default"
  name   = "crm"
}

resource "fluxbase_table" "contacts" {
  tenant = "default"
  schema = fluxbase_schema.crm.name
  name   = "contacts"
  # Columns keyed by name: the plan names the column added, removed or changed. A new table gets
  # its primary-key columns first, then the others by name (README.md, "Columns").
  columns = {
    id         = { type = "uuid", primary_key = true, default = "gen_random_uuid()" }
    owner      = { type = "uuid", nullable = false }
    email      = { type = "text", nullable = false, unique = true }
    status     = { type = "text", nullable = false, default = "'lead'" }
    created_at = { type = "timestamptz", nullable = false, default = "now()" }
  }
  indexes  = { contacts_owner_idx = { columns = ["owner"] } }
  checks   = { contacts_status_known = "status IN ('lead', 'customer', 'churned')" }
  rls      = { enabled = true }
  realtime = { enabled = true, events = ["INSERT", "UPDATE"] }
}

resource "fluxbase_rls_policy" "owner_all" {
  tenant     = "default"
  schema     = fluxbase_schema.crm.name
  table      = fluxbase_table.contacts.name
  name       = "contacts_owner_all"
  command    = "ALL"
  roles      = ["authenticated"]
  using      = "owner = auth.uid()"
  with_check = "owner = auth.uid()"
}

resource "fluxbase_webhook" "contacts" {
  tenant            = "default"
  name              = "contacts-to-gateway"
  url               = terraform_data.gateway.output.url
  events            = [{ table = "crm.contacts", operations = ["INSERT", "UPDATE"] }]
  headers           = { "X-Source" = "fluxbase" }
  secret_wo         = var.webhook_secret
  secret_wo_version = var.webhook_secret_version
}

resource "fluxbase_service_key" "etl" {
  tenant      = fluxbase_tenant.acme.slug
  name        = "etl"
  description = "Nightly ETL"
  scopes      = ["tables:read"]
}

resource "terraform_data" "secret_store" {
  input = { etl_key = fluxbase_service_key.etl.key }
}

output "etl_key" {
  value     = fluxbase_service_key.etl.key
  sensitive = true
}

output "contacts_table" {
  value = fluxbase_table.contacts.id
}
