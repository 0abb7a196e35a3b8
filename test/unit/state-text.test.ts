import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/model/canonical.js';
import { addPending, clearPending, emptyState, pendingFor, type PendingOperation, type StateDocument, type StateEntry } from '../../src/state/document.js';
import { stateFileBytes } from '../../src/state/text.js';
import { random, randomJson } from '../support/random-json.js';

const canonical = (doc: StateDocument) => `${canonicalJson(doc, 2)}\n`;
/** The document's members, writable: the serialiser must cope with any change, tracked or not. */
const w = (doc: StateDocument) => doc as unknown as { resources: Record<string, StateEntry>; pending?: PendingOperation[] };

const stateText = (doc: StateDocument) => stateFileBytes(doc).toString('utf8');

describe('state text', () => {
  it('is canonicalJson(doc, 2) after every step of random sequences of entry and record changes', () => {
    const next = random(7);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
    // Addresses as apply makes them, plus ones whose order differs between code units and locales.
    const addresses = Array.from({ length: 40 }, (_, i) => pick(['table.default.public.t', 'policy.acme.shop.items.p', 'webhook.default.hook-', 'tenant.É', 'tenant.e', 'key.default.k', 'tenant.']) + String(i % 13));
    for (let round = 0; round < 30; round++) {
      const doc = emptyState();
      expect(stateText(doc)).toBe(canonical(doc));
      for (let step = 0; step < 120; step++) {
        const address = pick(addresses);
        const r = next();
        if (r < 0.35) {
          // A new entry object (create, update, observed recorded): never changed in place.
          w(doc).resources[address] = { kind: 'table', ...(next() < 0.5 ? { id: `id-${step}` } : {}), ...(next() < 0.5 ? { extra: randomJson(next, 1) } : {}) } as StateEntry;
        } else if (r < 0.5) {
          delete w(doc).resources[address];
        } else if (r < 0.75) {
          const op: PendingOperation = { address, kind: 'webhook', action: pick(['create', 'update', 'delete', 'replace'] as const), ...(next() < 0.5 ? { started: `2026-12-07T00:00:0${step % 10}.000Z` } : {}), ...(next() < 0.3 ? { steps: { done: 1, of: 2 } } : {}) };
          addPending(doc, op);
        } else if (r < 0.9) {
          clearPending(doc, address);
        } else if (r < 0.93) {
          // A rename moves the same entry object to another address (engine/rename.ts).
          const from = Object.keys(doc.resources)[0];
          if (from !== undefined && from !== address) {
            w(doc).resources[address] = w(doc).resources[from]!;
            delete w(doc).resources[from];
          }
        } else if (r < 0.95) {
          w(doc).resources = { ...doc.resources };
        } else {
          doc.serial += 1;
          if (next() < 0.2) (doc as unknown as Record<string, unknown>).extra = randomJson(next, 1);
        }
        expect(stateText(doc)).toBe(canonical(doc));
      }
    }
  });

  it('falls back to canonicalJson for addresses that look like array indexes', () => {
    const doc = emptyState();
    w(doc).resources['10'] = { kind: 'tenant' };
    w(doc).resources.b = { kind: 'tenant' };
    w(doc).resources['9'] = { kind: 'tenant', id: '9' };
    expect(stateText(doc)).toBe(canonical(doc));
    const text = stateText(doc);
    expect(text.indexOf('"10"')).toBeLessThan(text.indexOf('"9"'));
    expect(text.indexOf('"9"')).toBeLessThan(text.indexOf('"b"'));
  });

  it('writes empty resources and pending lists as canonicalJson does', () => {
    const doc = emptyState();
    w(doc).pending = [];
    expect(stateText(doc)).toBe(canonical(doc));
    expect(stateText(doc)).toContain('"resources": {}');
  });

  it('freezes an entry or record whose text it keeps, so a change in place throws instead of leaving a stale text', () => {
    const doc = emptyState();
    const entry: StateEntry = { kind: 'webhook', id: 'w1', writeOnly: { secret: 'scrypt:00' } };
    w(doc).resources['webhook.default.w1'] = entry;
    const op: PendingOperation = { address: 'webhook.default.w2', kind: 'webhook', action: 'create', steps: { done: 0, of: 2 } };
    addPending(doc, op);
    stateText(doc);
    expect(() => {
      entry.id = 'w2';
    }).toThrow(TypeError);
    expect(() => {
      entry.writeOnly!.secret = 'scrypt:01';
    }).toThrow(TypeError);
    expect(() => {
      op.steps!.done = 1;
    }).toThrow(TypeError);
    // Replacing them is how the engine changes them; the next text has the new values.
    w(doc).resources['webhook.default.w1'] = { ...entry, id: 'w2' };
    addPending(doc, { ...op, steps: { done: 1, of: 2 } });
    const text = stateText(doc);
    expect(text).toBe(canonical(doc));
    expect(text).toContain('"id": "w2"');
    expect(text).toContain('"done": 1');
  });
});

describe('pending records', () => {
  const op = (address: string, action: PendingOperation['action'] = 'create'): PendingOperation => ({ address, kind: 'webhook', action });

  it('are kept sorted by address, found, replaced and removed by address', () => {
    const doc = emptyState();
    addPending(doc, op('webhook.default.c'), op('webhook.default.a'), op('webhook.default.b'));
    expect(doc.pending!.map((p) => p.address)).toEqual(['webhook.default.a', 'webhook.default.b', 'webhook.default.c']);
    addPending(doc, op('webhook.default.b', 'update'));
    expect(doc.pending!.map((p) => p.action)).toEqual(['create', 'update', 'create']);
    expect(pendingFor(doc, 'webhook.default.b')?.action).toBe('update');
    expect(pendingFor(doc, 'webhook.default.x')).toBeUndefined();
    clearPending(doc, 'webhook.default.x');
    clearPending(doc, 'webhook.default.a');
    expect(doc.pending!.map((p) => p.address)).toEqual(['webhook.default.b', 'webhook.default.c']);
    clearPending(doc, 'webhook.default.b');
    clearPending(doc, 'webhook.default.c');
    expect(doc.pending).toBeUndefined();
  });

  it('are found and removed in a list out of order, as a state file edited by hand may hold', () => {
    const doc = emptyState();
    w(doc).pending = ['webhook.default.d', 'webhook.default.a', 'webhook.default.c', 'webhook.default.b', 'webhook.default.a'].map((a) => op(a));
    for (const a of ['a', 'b', 'c', 'd']) expect(pendingFor(doc, `webhook.default.${a}`)?.address).toBe(`webhook.default.${a}`);
    clearPending(doc, 'webhook.default.a');
    expect(doc.pending!.map((p) => p.address)).toEqual(['webhook.default.d', 'webhook.default.c', 'webhook.default.b']);
    addPending(doc, op('webhook.default.c', 'delete'));
    expect(pendingFor(doc, 'webhook.default.c')?.action).toBe('delete');
    expect(doc.pending).toHaveLength(3);
  });
});
