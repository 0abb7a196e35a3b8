/**
 * The provider's resource models against the project's other definitions: document paths equal
 * the constructs' placements, every attribute comes from the JSON Schema, and which attributes
 * are "not managed when absent" (Terraform optional + computed) agrees with what the resource
 * handlers' desired() actually does with an absent attribute.
 */
import { describe, expect, it } from 'vitest';
import { placementPattern, type ResourceConstructKind } from '../../src/constructs/base.js';
import { SourceIndex } from '../../src/engine/source-index.js';
import { handlerFor } from '../../src/resources/index.js';
import { documentFor, addressOf, bodyFromTerraform, parseImportId, importId } from '../../src/terraform-provider/codec.js';
import type { Attr, Field } from '../../src/terraform-provider/fields.js';
import { KINDS } from '../../src/terraform-provider/kinds.js';
import { modelOf, resourceModels } from '../../src/terraform-provider/model.js';
import { bodyPathOf, diagnosticPath, keepUnchanged, writeLiveAt } from '../../src/terraform-provider/reconcile.js';
import { toProtoPath } from '../../src/terraform/diagnostics.js';
import { compileBlock } from '../../src/terraform/schema.js';

type Obj = Record<string, unknown>;

/** A valid config value for a field (enum's first value, a URL for uri, …). */
function sample(f: Field): unknown {
  switch (f.type) {
    case 'string':
      return f.checks.enum ? f.checks.enum[0] : f.checks.format === 'uri' ? 'https://example.com/x' : f.checks.format === 'date-time' ? '2030-01-01T00:00:00Z' : 'x';
    case 'number':
      return 1;
    case 'bool':
      return true;
    case 'json':
      return { a: 1 };
    case 'list':
    case 'set':
      return [sample(f.element)];
    case 'map':
      return { k: sample(f.element) };
    case 'object':
    case 'object_list':
    case 'object_map': {
      const body = minimal(f.attrs);
      return f.type === 'object' ? body : f.type === 'object_list' ? [body] : { k: body };
    }
  }
}

function minimal(attrs: Record<string, Attr>): Obj {
  return Object.fromEntries(Object.entries(attrs).filter(([, a]) => a.required).map(([n, a]) => [n, sample(a.field)]));
}

const identity = (n: number) => ['acme', 'app', 'items', 'x'].slice(0, n);

describe('provider resource models', () => {
  it('has one resource type per resource kind, at the constructs\' document paths', () => {
    expect(KINDS.map((k) => k.kind).sort()).toEqual(Object.keys({ app_settings: 0, auth_settings: 0, system_setting: 0, oauth_provider: 0, client_key: 0, tenant: 0, schema: 0, table: 0, policy: 0, webhook: 0, service_key: 0, custom_setting: 0 }).sort());
    for (const k of KINDS) {
      expect(k.pattern, k.kind).toEqual(placementPattern(k.kind as ResourceConstructKind));
      expect(k.identity.length, k.kind).toBe(k.pattern.filter((s) => s === '*').length);
    }
  });

  it('derives write-only attributes from the schema (writeOnly: true) with a version companion', () => {
    const wo = (type: string) => modelOf(type).writeOnly.map((w) => w.name);
    expect(wo('fluxbase_webhook')).toEqual(['secret_wo']);
    expect(wo('fluxbase_oauth_provider')).toEqual(['client_secret_wo']);
    expect(wo('fluxbase_custom_setting')).toEqual(['secret_wo']);
    expect(wo('fluxbase_app_settings')).toEqual(['email_smtp_password_wo', 'email_sendgrid_api_key_wo', 'email_mailgun_api_key_wo', 'email_ses_access_key_id_wo', 'email_ses_secret_access_key_wo']);
    const attrs = modelOf('fluxbase_webhook').schema.attributes!;
    expect(attrs.secret_wo).toMatchObject({ writeOnly: true, optional: true });
    expect(attrs.secret_wo_version).toMatchObject({ optional: true });
    expect(modelOf('fluxbase_service_key').schema.attributes!.key).toMatchObject({ computed: true, sensitive: true });
  });

  it('parses import ids as identity paths or engine addresses', () => {
    const hook = modelOf('fluxbase_webhook');
    expect(parseImportId(hook, 'acme/user/signups')).toEqual(['acme', 'user/signups']);
    expect(parseImportId(hook, 'webhook.acme.user-signups')).toEqual(['acme', 'user-signups']);
    expect(() => parseImportId(hook, 'acme')).toThrow(/Invalid import id/);
    const setting = modelOf('fluxbase_system_setting');
    expect(parseImportId(setting, 'system_setting["app.auth.signup_enabled"]')).toEqual(['app.auth.signup_enabled']);
    expect(importId(modelOf('fluxbase_auth_settings'), [])).toBe('auth_settings');
  });

  for (const model of resourceModels().values()) {
    it(`${model.info.typeName}: an absent attribute is "not managed" exactly when the handler leaves it out`, () => {
      const n = model.info.identity.length;
      const base = minimal(model.fields.attrs);
      const handler = handlerFor(model.info.kind);
      const declared = (body: Obj) => {
        const config = documentFor(model, identity(n), body);
        const d = handler.desired({ config, sources: new SourceIndex('t'), preventDestroyDefault: false }).find((r) => r.address === addressOf(model, identity(n)))!;
        return new Set(Object.keys(d.attrs).map((k) => bodyPathOf(model.info.kind, [k])?.[0]));
      };
      for (const [name, attr] of Object.entries(model.fields.attrs)) {
        if (attr.required || attr.default !== undefined) continue;
        const present = declared(base).has(name);
        expect(present, `${name}: absent → ${present ? 'managed with a default' : 'not managed'}`).toBe(!attr.unmanagedWhenAbsent);
      }
    });
  }

  it('fluxbase_table: column attributes without a schema default are managed when absent', () => {
    const model = modelOf('fluxbase_table');
    const columns = model.fields.attrs.columns!.field as Extract<Field, { type: 'object_map' }>;
    const config = documentFor(model, ['acme', 'app', 'items'], { columns: { id: { type: 'uuid' } } });
    const d = handlerFor('table').desired({ config, sources: new SourceIndex('t'), preventDestroyDefault: false })[0]!;
    const column = (d.attrs.columns as Record<string, Obj>).id!;
    for (const [name, attr] of Object.entries(columns.attrs)) {
      if (attr.required || attr.default !== undefined) continue;
      expect(name in column, name).toBe(!attr.unmanagedWhenAbsent);
    }
  });

  describe('fluxbase_table columns: a map keyed by column name', () => {
    const model = modelOf('fluxbase_table');
    const col = (type: string, extra: Obj = {}): Obj => ({ type, nullable: true, primary_key: false, unique: false, default: null, references: null, ...extra });

    it('is a map nested attribute whose entries have no name attribute; an empty map is refused', () => {
      const spec = model.schema.attributes!.columns!;
      expect(spec.nested?.nesting).toBe('map');
      expect(Object.keys(spec.nested!.attributes)).not.toContain('name');
      expect(Object.keys(spec.nested!.attributes)).toEqual(expect.arrayContaining(['type', 'nullable', 'primary_key', 'default', 'unique', 'references']));
      expect(spec.validate!({})).toEqual(['must have at least 1 entry']);
      expect(spec.validate!({ id: col('uuid') })).toEqual([]);
      expect(spec.validate!({ Id: col('uuid') })).toEqual([expect.stringMatching(/^key "Id" must be a lower-case identifier/)]);
    });

    it('creates primary-key columns first, then the others in key order, whatever order the map arrives in', () => {
      const columns = { owner: col('uuid'), tenant_id: col('uuid', { primary_key: true }), created_at: col('timestamptz'), id: col('uuid', { primary_key: true }), body: col('text') };
      const body = bodyFromTerraform(model, { tenant: 'acme', schema: 'public', name: 'notes', columns });
      expect(Object.keys(body.columns as Obj)).toEqual(['id', 'tenant_id', 'body', 'created_at', 'owner']);
      const d = handlerFor('table').desired({ config: documentFor(model, ['acme', 'public', 'notes'], body), sources: new SourceIndex('t'), preventDestroyDefault: false })[0]!;
      expect(Object.keys(d.attrs.columns as Obj)).toEqual(['id', 'tenant_id', 'body', 'created_at', 'owner']);
    });

    it('keeps the prior value of every column the engine does not change (an equivalent rewrite plans nothing)', () => {
      const prior = { columns: { id: col('uuid', { primary_key: true }), at: col('timestamptz', { default: 'now()' }), n: col('int4') } };
      const planned = { columns: { id: col('uuid', { primary_key: true }), at: col('timestamptz', { default: '(now())' }), n: col('int8'), added: col('text') } };
      const out = keepUnchanged(model, prior, planned, [['columns', 'n', 'type'], ['columns', 'added']]);
      expect(out.columns).toEqual({ id: prior.columns.id, at: prior.columns.at, n: col('int8'), added: col('text') });
    });

    it('writes drift into one column entry: added when only the server has it, removed when the server lacks it', () => {
      const state: Obj = { columns: { id: col('uuid', { primary_key: true }), gone: col('text') } };
      const live = { columns: { id: { type: 'uuid', nullable: false, primary_key: true, unique: false, default: null, references: null }, extra: { type: 'text', nullable: true, primary_key: false, unique: false, default: null, references: null } } };
      writeLiveAt(model, state, ['columns', 'gone'], live);
      writeLiveAt(model, state, ['columns', 'extra'], live);
      writeLiveAt(model, state, ['columns', 'id', 'nullable'], live);
      expect(Object.keys(state.columns as Obj).sort()).toEqual(['extra', 'id']);
      expect((state.columns as Record<string, Obj>).id!.nullable).toBe(false);
      expect((state.columns as Record<string, Obj>).extra!.type).toBe('text');
    });

    it('points a diagnostic about one column at that map entry', () => {
      const at = ['tenants', 'acme', 'schemas', 'public', 'tables', 'notes'];
      const path = diagnosticPath(model, [...at, 'columns', 'body', 'default'])!;
      expect(path).toEqual(['columns', 'body']);
      expect(toProtoPath(path, compileBlock(model.schema, 'fluxbase_table').type).steps).toEqual([{ attribute_name: 'columns' }, { element_key_string: 'body' }]);
      expect(diagnosticPath(model, [...at, 'rls', 'enabled'])).toEqual(['rls']);
      expect(diagnosticPath(modelOf('fluxbase_webhook'), ['tenants', 'acme', 'webhooks', 'w', 'secret'])).toEqual(['secret_wo_version']);
    });
  });
});
