/**
 * The generic protocol rules, driven through ProviderServer directly (the
 * same request/response objects gRPC would carry), without Terraform.
 */
import { describe, expect, it } from 'vitest';
import { decodeMsgpack, encodeMsgpack } from '../../src/terraform/cty/msgpack.js';
import { isUnknown, UNKNOWN } from '../../src/terraform/cty/values.js';
import { defineProvider, defineResource, DiagnosticError, t, type ResourceDefinition } from '../../src/terraform/index.js';
import { createLogger } from '../../src/terraform/log.js';
import { compileProvider, ProviderServer, type Req } from '../../src/terraform/provider-server.js';
import { SchemaError } from '../../src/terraform/schema.js';
import { toProtoPath } from '../../src/terraform/diagnostics.js';

type Thing = {
  id: string | null;
  name: string;
  kind: string;
  size: number;
  secret: string | null;
  stamp: string | null;
  etag: string | null;
  item: { key: string; hash: string | null }[];
};

const calls: { op: string; input: unknown }[] = [];
const base: ResourceDefinition<Thing> = {
  typeName: 'x_thing',
  schema: {
    attributes: {
      id: { type: t.string, computed: true },
      name: { type: t.string, required: true },
      kind: { type: t.string, required: true, forceNew: true },
      size: { type: t.number, default: 10 },
      secret: { type: t.string, optional: true, writeOnly: true },
      stamp: { type: t.string, computed: true },
      etag: { type: t.string, computed: true, unknownOnUpdate: true },
    },
    blocks: { item: { nesting: 'list', attributes: { key: { type: t.string, required: true }, hash: { type: t.string, computed: true } } } },
  },
  create(plan) {
    calls.push({ op: 'create', input: plan });
    return { id: 'i-1', stamp: 's', etag: 'e1', item: plan.item.map((i) => ({ ...i, hash: `h-${i.key}` })) };
  },
  read: (state) => state,
  update(plan) {
    calls.push({ op: 'update', input: plan });
    return { etag: 'e2', item: plan.item.map((i) => ({ ...i, hash: i.hash ?? `h-${i.key}` })) };
  },
  delete() {},
};

function server(overrides: Partial<ResourceDefinition<Thing>> = {}): ProviderServer {
  const provider = defineProvider({ name: 'x', resources: [defineResource<Thing>({ ...base, ...overrides })] });
  return new ProviderServer(compileProvider(provider), createLogger('test', 'off'));
}
const TYPE = compileProvider(defineProvider({ name: 'x', resources: [base] })).resources.get('x_thing')!.block.type;
const dv = (v: unknown) => ({ msgpack: encodeMsgpack(v, TYPE) });
const val = (d: Req | null | undefined) => (d?.msgpack ? decodeMsgpack(d.msgpack, TYPE) : null) as Record<string, any> | null;
const config = (over: Partial<Thing> = {}): Thing => ({ id: null, name: 'n', kind: 'k', size: null as unknown as number, secret: null, stamp: null, etag: null, item: [], ...over });
const prior: Thing = { id: 'i-1', name: 'n', kind: 'k', size: 10, secret: null, stamp: 's', etag: 'e1', item: [{ key: 'a', hash: 'h-a' }] };

async function plan(ps: ProviderServer, p: Thing | null, cfg: Thing, proposed?: Thing) {
  const res = await ps.PlanResourceChange({ type_name: 'x_thing', prior_state: dv(p), config: dv(cfg), proposed_new_state: dv(proposed ?? { ...cfg, ...(p ? { id: p.id, stamp: p.stamp, etag: p.etag } : {}) }) });
  return { res, planned: val(res.planned_state) };
}

describe('schema declarations', () => {
  const bad = (attributes: Record<string, object>, extra: Partial<ResourceDefinition> = {}) => () =>
    compileProvider(defineProvider({ name: 'x', resources: [{ ...base, ...extra, schema: { attributes } } as ResourceDefinition] }));

  it('rejects contradictory or incomplete attribute flags', () => {
    expect(bad({ a: { type: t.string, required: true, computed: true } })).toThrow(SchemaError);
    expect(bad({ a: { type: t.string } })).toThrow(/declare required, optional or computed/);
    expect(bad({ a: { type: t.string, computed: true, writeOnly: true } })).toThrow(/writeOnly attributes cannot be computed/);
    expect(bad({ a: { type: t.number, default: 'x' } })).toThrow(/default does not fit/);
  });

  it('rejects Terraform meta-argument names and resources without update whose attributes are not all forceNew', () => {
    expect(bad({ count: { type: t.number, optional: true } })).toThrow(/reserved by Terraform/);
    expect(bad({ a: { type: t.string, required: true } }, { update: undefined })).toThrow(/no update callback, so a must be forceNew/);
    expect(() => compileProvider(defineProvider({ name: 'y', resources: [base] }))).toThrow(/must start with "y_"/);
  });

  it('sends default-bearing attributes as optional+computed and write-only ones with write_only', () => {
    const schema = server().GetProviderSchema().resource_schemas.x_thing.block;
    const size = schema.attributes.find((a: Req) => a.name === 'size');
    expect([size.optional, size.computed, size.required]).toEqual([true, true, false]);
    expect(schema.attributes.find((a: Req) => a.name === 'secret').write_only).toBe(true);
    expect(schema.block_types[0].nesting).toBe('LIST');
  });
});

describe('PlanResourceChange', () => {
  it('plans computed attributes unknown on create, defaults for null config, and write-only as null', async () => {
    const { planned, res } = await plan(server(), null, config({ secret: 'pw', item: [{ key: 'a', hash: null }] }));
    expect(res.diagnostics).toEqual([]);
    expect(isUnknown(planned!.id)).toBe(true);
    expect(isUnknown(planned!.etag)).toBe(true);
    expect(planned!.size).toBe(10);
    expect(planned!.secret).toBeNull();
    expect(planned!.name).toBe('n');
    expect(isUnknown(planned!.item[0].hash)).toBe(true);
  });

  it('plans no change when config matches the prior state', async () => {
    const { planned, res } = await plan(server(), prior, config({ item: [{ key: 'a', hash: null }] }), prior);
    expect(planned).toEqual(prior);
    expect(res.requires_replace).toEqual([]);
  });

  it('keeps computed values on update but re-plans unknownOnUpdate ones, and nested computed values of existing elements', async () => {
    const cfg = config({ name: 'renamed', item: [{ key: 'a', hash: null }, { key: 'b', hash: null }] });
    const proposed = { ...prior, name: 'renamed', item: [{ key: 'a', hash: 'h-a' }, { key: 'b', hash: null }] };
    const { planned } = await plan(server(), prior, cfg, proposed);
    expect(planned!.stamp).toBe('s');
    expect(isUnknown(planned!.etag)).toBe(true);
    expect(planned!.item[0].hash).toBe('h-a');
    expect(isUnknown(planned!.item[1].hash)).toBe(true);
  });

  it('asks for replacement when a forceNew attribute changes', async () => {
    const cfg = config({ kind: 'other', item: [{ key: 'a', hash: null }] });
    const { res } = await plan(server(), prior, cfg, { ...prior, kind: 'other' });
    expect(res.requires_replace).toEqual([{ steps: [{ attribute_name: 'kind' }] }]);
  });

  it('plans null for destroy', async () => {
    const res = await server().PlanResourceChange({ type_name: 'x_thing', prior_state: dv(prior), config: dv(null), proposed_new_state: dv(null) });
    expect(val(res.planned_state)).toBeNull();
  });

  it('refuses a modifyPlan hook that changes a configured value, naming the attribute', async () => {
    const ps = server({ modifyPlan: ({ planned }) => ({ ...planned, name: 'sneaky' }) });
    const { res } = await plan(ps, null, config());
    expect(res.planned_state).toBeNull();
    expect(res.diagnostics[0].summary).toBe('Provider produced an invalid plan');
    expect(res.diagnostics[0].detail).toContain('planned "sneaky" but the configuration says "n"');
    expect(res.diagnostics[0].attribute).toEqual({ steps: [{ attribute_name: 'name' }] });
  });

  it('lets modifyPlan fill computed values and request replacement', async () => {
    const ps = server({
      modifyPlan: ({ planned }, ctx) => {
        ctx.requireReplace(['name']);
        return { ...planned, stamp: 'predicted' };
      },
    });
    const { planned, res } = await plan(ps, prior, config({ item: [{ key: 'a', hash: null }] }), prior);
    expect(planned!.stamp).toBe('predicted');
    expect(res.requires_replace).toEqual([{ steps: [{ attribute_name: 'name' }] }]);
  });
});

describe('ApplyResourceChange', () => {
  const apply = (ps: ProviderServer, p: Thing | null, planned: unknown, cfg: Thing | null) =>
    ps.ApplyResourceChange({ type_name: 'x_thing', prior_state: dv(p), planned_state: dv(planned), config: dv(cfg) });
  const plannedCreate = { ...config({ item: [{ key: 'a', hash: UNKNOWN as unknown as string }] }), id: UNKNOWN, stamp: UNKNOWN, etag: UNKNOWN, size: 10 };

  it('hands create the plan with unknowns as null and write-only values from config, and never stores them', async () => {
    calls.length = 0;
    const res = await apply(server(), null, plannedCreate, config({ secret: 'pw', item: [{ key: 'a', hash: null }] }));
    expect(res.diagnostics).toEqual([]);
    expect(calls[0]!.input).toMatchObject({ id: null, secret: 'pw', size: 10, item: [{ key: 'a', hash: null }] });
    expect(val(res.new_state)).toMatchObject({ id: 'i-1', secret: null, item: [{ key: 'a', hash: 'h-a' }] });
  });

  it('reports a computed attribute that create left unknown', async () => {
    const res = await apply(server({ create: () => ({ id: 'i-1', etag: 'e', item: [{ key: 'a', hash: 'x' }] }) }), null, plannedCreate, config());
    expect(res.diagnostics[0].summary).toBe('Provider produced an inconsistent result');
    expect(res.diagnostics[0].detail).toContain('stamp: still unknown after apply');
  });

  it('reports a result that contradicts a known planned value', async () => {
    const res = await apply(server({ create: () => ({ id: 'i', stamp: 's', etag: 'e', name: 'changed', item: [{ key: 'a', hash: 'x' }] }) }), null, plannedCreate, config());
    expect(res.diagnostics.map((d: Req) => d.detail).join()).toContain('name: the plan said "n" but the result is "changed"');
    expect(res.diagnostics[0].attribute).toEqual({ steps: [{ attribute_name: 'name' }] });
  });

  it('reports attributes a callback returns that the schema does not declare', async () => {
    const res = await apply(server({ create: () => ({ id: 'i', stamp: 's', etag: 'e', colour: 'red' }) as Partial<Thing> }), null, plannedCreate, config());
    expect(res.diagnostics[0].summary).toContain('unsupported attribute');
    expect(res.diagnostics[0].attribute).toEqual({ steps: [{ attribute_name: 'colour' }] });
    expect(val(res.new_state)).toBeNull();
  });

  it('keeps the prior state when update fails, and passes DiagnosticError paths through', async () => {
    const ps = server({
      update: () => {
        throw new DiagnosticError('Name taken', { path: ['name'], detail: 'pick another' });
      },
    });
    const res = await apply(ps, prior, { ...prior, name: 'm', etag: UNKNOWN }, config({ name: 'm' }));
    expect(val(res.new_state)).toEqual(prior);
    expect(res.diagnostics[0]).toMatchObject({ severity: 'ERROR', summary: 'Could not apply the change: Name taken', detail: 'pick another' });
    expect(res.diagnostics[0].attribute).toEqual({ steps: [{ attribute_name: 'name' }] });
  });

  it('deletes when the planned state is null', async () => {
    let deleted: unknown;
    const res = await apply(server({ delete: (s) => void (deleted = s.id) }), prior, null, null);
    expect(deleted).toBe('i-1');
    expect(val(res.new_state)).toBeNull();
  });
});

describe('ReadResource, ImportResourceState, UpgradeResourceState, validation', () => {
  it('removes the object from state when read returns null, and keeps prior values read leaves undefined', async () => {
    const gone = await server({ read: () => null }).ReadResource({ type_name: 'x_thing', current_state: dv(prior) });
    expect(val(gone.new_state)).toBeNull();
    const partial = await server({ read: () => ({ name: 'remote' }) }).ReadResource({ type_name: 'x_thing', current_state: dv(prior) });
    expect(val(partial.new_state)).toEqual({ ...prior, name: 'remote' });
  });

  it('imports { id } by default when the schema has an id attribute', async () => {
    const res = await server().ImportResourceState({ type_name: 'x_thing', id: 'abc' });
    expect(res.imported_resources).toHaveLength(1);
    expect(val(res.imported_resources[0].state)).toMatchObject({ id: 'abc', name: null });
  });

  it('upgrades JSON state of the current version by dropping unknown keys and refuses state from a newer schema', async () => {
    const json = Buffer.from(JSON.stringify({ ...prior, gone: 1 }));
    const ok = await server().UpgradeResourceState({ type_name: 'x_thing', version: 0, raw_state: { json } });
    expect(val(ok.upgraded_state)).toEqual(prior);
    const newer = await server().UpgradeResourceState({ type_name: 'x_thing', version: 3, raw_state: { json } });
    expect(newer.diagnostics[0].detail + newer.diagnostics[0].summary).toContain('schema version 3');
  });

  it('rejects write-only values when the client does not announce support for them', async () => {
    const cfg = dv(config({ secret: 'pw' }));
    const old = await server().ValidateResourceConfig({ type_name: 'x_thing', config: cfg, client_capabilities: { write_only_attributes_allowed: false } });
    expect(old.diagnostics[0].attribute).toEqual({ steps: [{ attribute_name: 'secret' }] });
    const current = await server().ValidateResourceConfig({ type_name: 'x_thing', config: cfg, client_capabilities: { write_only_attributes_allowed: true } });
    expect(current.diagnostics).toEqual([]);
  });

  it('answers unknown resource types with a diagnostic rather than a crash', async () => {
    const res = await server().ReadResource({ type_name: 'x_nope', current_state: dv(prior) });
    expect(res.diagnostics[0].summary).toBe('Unknown resource type x_nope');
  });
});

describe('diagnostic paths', () => {
  it('uses attribute names for object members, string keys for maps and integer keys for lists', () => {
    const type = t.object({ m: t.map(t.object({ l: t.list(t.string) })) });
    expect(toProtoPath(['m', 'k', 'l', 2], type).steps).toEqual([
      { attribute_name: 'm' },
      { element_key_string: 'k' },
      { attribute_name: 'l' },
      { element_key_int: 2 },
    ]);
  });
});

describe('set-nested blocks', () => {
  type Bag = { id: string | null; entry: { key: string; hash: string | null }[] };
  const bag = defineResource<Bag>({
    typeName: 'x_bag',
    schema: { attributes: { id: { type: t.string, computed: true } }, blocks: { entry: { nesting: 'set', attributes: { key: { type: t.string, required: true }, hash: { type: t.string, computed: true } } } } },
    create: () => ({ id: 'b' }),
    read: (s) => s,
    update: () => ({}),
    delete: () => {},
  });
  const compiled = compileProvider(defineProvider({ name: 'x', resources: [bag] }));
  const ty = compiled.resources.get('x_bag')!.block.type;
  const ps = new ProviderServer(compiled, createLogger('test', 'off'));
  const enc = (v: unknown) => ({ msgpack: encodeMsgpack(v, ty) });

  it('keeps computed values of elements that match a prior element and plans new elements unknown', async () => {
    const priorBag = { id: 'b', entry: [{ key: 'a', hash: 'h-a' }] };
    const res = await ps.PlanResourceChange({
      type_name: 'x_bag',
      prior_state: enc(priorBag),
      config: enc({ id: null, entry: [{ key: 'b', hash: null }, { key: 'a', hash: null }] }),
      proposed_new_state: enc({ id: 'b', entry: [{ key: 'a', hash: 'h-a' }, { key: 'b', hash: null }] }),
    });
    const planned = decodeMsgpack(res.planned_state.msgpack, ty) as Bag;
    expect(res.diagnostics).toEqual([]);
    expect(planned.entry.find((e) => e.key === 'a')!.hash).toBe('h-a');
    expect(isUnknown(planned.entry.find((e) => e.key === 'b')!.hash)).toBe(true);
  });
});

describe('private state (ctx.private)', () => {
  it('hands JSON private state to read, plan and apply, and passes foreign bytes through untouched', async () => {
    const seen: unknown[] = [];
    const ps = server({
      read: (state, ctx) => {
        seen.push(ctx.private.get());
        ctx.private.set({ reads: ((ctx.private.get()?.reads as number | undefined) ?? 0) + 1 });
        return state;
      },
      modifyPlan: ({ planned }, ctx) => {
        seen.push(ctx.private.get());
        return planned;
      },
      create: (plan, ctx) => {
        ctx.private.set({ created: true });
        return { id: 'i-1', stamp: 's', etag: 'e1', item: plan.item };
      },
    });
    const read = await ps.ReadResource({ type_name: 'x_thing', current_state: dv(prior), private: Buffer.from('{"reads":1}') });
    expect(JSON.parse(Buffer.from(read.private).toString())).toEqual({ reads: 2 });
    const foreign = Buffer.from([0xde, 0xad]);
    const plan = await ps.PlanResourceChange({ type_name: 'x_thing', prior_state: dv(prior), config: dv(config({ item: [{ key: 'a', hash: null }] })), proposed_new_state: dv(prior), prior_private: foreign });
    expect(Buffer.from(plan.planned_private)).toEqual(foreign);
    const created = await ps.ApplyResourceChange({ type_name: 'x_thing', prior_state: dv(null), planned_state: dv({ ...config(), id: UNKNOWN, stamp: UNKNOWN, etag: UNKNOWN, size: 10 }), config: dv(config()) });
    expect(JSON.parse(Buffer.from(created.private).toString())).toEqual({ created: true });
    expect(seen).toEqual([{ reads: 1 }, undefined]);
  });
});
