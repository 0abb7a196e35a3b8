import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/model/canonical.js';
import { StateDamagedError } from '../../src/state/backend.js';
import { addPending, clearPending, dropPending, emptyState, removeEntry, setEntry, type PendingOperation, type StateDocument, type StateEntry } from '../../src/state/document.js';
import { LocalStateBackend } from '../../src/state/local.js';
import { random, randomJson } from '../support/random-json.js';

const canonical = (doc: StateDocument | undefined) => `${canonicalJson(doc, 2)}\n`;
const exists = (file: string) => stat(file).then(
  () => true,
  () => false,
);

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'fluxbase-journal-'));
  file = path.join(dir, 'fluxbase.state.json');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** What another process reads now. */
const readFresh = () => new LocalStateBackend(file).read();

/** A change as the engine makes one (state/document.ts): entries and records replaced, never changed in place. */
function changer(seed: number) {
  const next = random(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const addresses = Array.from({ length: 30 }, (_, i) => pick(['table.default.public.t', 'policy.acme.shop.items.p', 'webhook.default.hook-', 'tenant.É', 'tenant.e', 'tenant.']) + String(i % 11));
  return (doc: StateDocument, step: number) => {
    const address = pick(addresses);
    const r = next();
    if (r < 0.35) setEntry(doc, address, { kind: 'table', id: `id-${step}`, ...(next() < 0.5 ? { extra: randomJson(next, 1) } : {}) } as StateEntry);
    else if (r < 0.5) removeEntry(doc, address);
    else if (r < 0.75) addPending(doc, { address, kind: 'webhook', action: pick(['create', 'update', 'delete', 'replace'] as const), ...(next() < 0.5 ? { started: `2026-12-07T00:00:0${step % 10}.000Z` } : {}) });
    else if (r < 0.9) clearPending(doc, address);
    else if (r < 0.95) {
      // A rename moves the same entry object to another address (engine/rename.ts).
      const from = Object.keys(doc.resources)[0];
      if (from !== undefined && from !== address) {
        setEntry(doc, address, doc.resources[from]!);
        removeEntry(doc, from);
      }
    } else if (r < 0.97) dropPending(doc);
    else if (r < 0.98) (doc as unknown as Record<string, unknown>).extra = randomJson(next, 1);
    else delete (doc as unknown as Record<string, unknown>).extra;
    doc.serial += 1; // as the state writer does before each write
  };
}

describe('state journal (local backend)', () => {
  it('reads back the document after every append of random sequences, and compact() leaves the file alone holding it', async () => {
    let lines = 0;
    for (let round = 0; round < 8; round++) {
      await rm(file, { force: true });
      const backend = new LocalStateBackend(file);
      const change = changer(round + 1);
      const doc = emptyState();
      await backend.append(doc); // the first write of a process is whole
      expect(await exists(backend.journalPath)).toBe(false);
      for (let step = 0; step < 60; step++) {
        change(doc, step);
        await backend.append(doc);
        expect(canonical(await readFresh())).toBe(canonical(doc));
      }
      if (await exists(backend.journalPath)) lines += (await readFile(backend.journalPath, 'utf8')).split('\n').length - 2;
      await backend.compact();
      expect(await exists(backend.journalPath)).toBe(false);
      expect(await readFile(file, 'utf8')).toBe(canonical(doc));
    }
    // The sequences went through the journal, not only whole writes.
    expect(lines).toBeGreaterThan(100);
  });

  it('appends one line per write with only what changed, and freezes what the line holds', async () => {
    const backend = new LocalStateBackend(file);
    const doc = emptyState();
    for (let i = 0; i < 50; i++) setEntry(doc, `webhook.default.h${i}`, { kind: 'webhook', id: `w${i}` });
    await backend.write(doc);
    const size = (await stat(file)).size;
    const op: PendingOperation = { address: 'webhook.default.new', kind: 'webhook', action: 'create', started: '2026-12-07T00:00:00.000Z' };
    addPending(doc, op);
    doc.serial += 1;
    await backend.append(doc);
    const entry: StateEntry = { kind: 'webhook', id: 'w-new' };
    setEntry(doc, 'webhook.default.new', entry);
    removeEntry(doc, 'webhook.default.h3');
    clearPending(doc, 'webhook.default.new');
    doc.serial += 1;
    await backend.append(doc);
    expect((await stat(file)).size).toBe(size); // the file itself was not rewritten
    const journal = (await readFile(backend.journalPath, 'utf8')).split('\n');
    expect(journal).toHaveLength(4);
    expect(JSON.parse(journal[0]!)).toMatchObject({ format: 'fluxbase-iac-state-journal', version: 1 });
    expect(JSON.parse(journal[1]!)).toEqual({ serial: doc.serial - 1, resources: {}, pending: { 'webhook.default.new': op } });
    expect(JSON.parse(journal[2]!)).toEqual({ serial: doc.serial, resources: { 'webhook.default.new': entry, 'webhook.default.h3': null }, pending: null });
    expect(() => {
      entry.id = 'changed in place';
    }).toThrow(TypeError);
    expect(canonical(await readFresh())).toBe(canonical(doc));
    await backend.compact();
  });

  it('a kill in the middle of a line: readers get the document of the last whole line', async () => {
    const backend = new LocalStateBackend(file);
    const doc = emptyState();
    await backend.write(doc);
    const after: string[] = [canonical(doc)];
    const change = changer(99);
    for (let step = 0; step < 40; step++) {
      change(doc, step);
      delete (doc as unknown as Record<string, unknown>).extra; // keep every write in the journal
      await backend.append(doc);
      after.push(canonical(doc));
    }
    const journal = await readFile(backend.journalPath);
    expect(journal.toString('utf8').split('\n')).toHaveLength(after.length + 1); // header, 40 lines, ''
    const next = random(5);
    for (let i = 0; i < 40; i++) {
      const cut = Math.floor(next() * journal.length);
      await writeFile(backend.journalPath, journal.subarray(0, cut));
      const complete = journal.subarray(0, cut).toString('latin1').split('\n').length - 2; // lines after the header
      expect(canonical(await readFresh())).toBe(after[Math.max(0, complete)]);
    }
    await backend.compact();
  });

  it('ignores a journal whose base is no longer the state file, and the next whole write removes it', async () => {
    const first = new LocalStateBackend(file);
    const doc = emptyState();
    await first.write(doc);
    setEntry(doc, 'tenant.a', { kind: 'tenant', id: 't-a' });
    doc.serial += 1;
    await first.append(doc);
    const journal = await readFile(first.journalPath);
    // Another process writes the file whole (it removes the journal)...
    const other = new LocalStateBackend(file);
    const replaced = (await other.read())!;
    expect(replaced.resources['tenant.a']).toBeDefined();
    removeEntry(replaced, 'tenant.a');
    setEntry(replaced, 'tenant.b', { kind: 'tenant', id: 't-b' });
    replaced.serial += 1;
    await other.write(replaced);
    expect(await exists(first.journalPath)).toBe(false);
    // ...and had it been killed before removing it, the journal would be stale.
    await writeFile(first.journalPath, journal);
    expect(canonical(await readFresh())).toBe(canonical(replaced));
    await new LocalStateBackend(file).write(replaced);
    expect(await exists(first.journalPath)).toBe(false);
    await first.compact();
  });

  it('with FLUXBASE_VERIFY_JOURNAL=1 (set for the test suite), a change made without the functions of state/document.ts throws instead of being left out', async () => {
    expect(process.env.FLUXBASE_VERIFY_JOURNAL).toBe('1');
    const backend = new LocalStateBackend(file);
    const doc = emptyState();
    await backend.write(doc);
    setEntry(doc, 'tenant.a', { kind: 'tenant', id: 'a' });
    (doc.resources as Record<string, StateEntry>)['tenant.b'] = { kind: 'tenant', id: 'b' };
    doc.serial += 1;
    await expect(backend.append(doc)).rejects.toThrow(/state journal: changes made without setEntry.* were left out of a line: tenant\.b/);
  });

  it('reports a damaged journal, naming it and the line, without changing anything', async () => {
    const backend = new LocalStateBackend(file);
    const doc = emptyState();
    await backend.write(doc);
    for (let i = 0; i < 3; i++) {
      setEntry(doc, `tenant.t${i}`, { kind: 'tenant', id: `t${i}` });
      doc.serial += 1;
      await backend.append(doc);
    }
    const lines = (await readFile(backend.journalPath, 'utf8')).split('\n');
    const fileBefore = await readFile(file, 'utf8');
    await writeFile(backend.journalPath, [lines[0], lines[1], '{"serial": 9, "resou', lines[3], ''].join('\n'));
    const err = await readFresh().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateDamagedError);
    expect((err as Error).message).toContain(`the state ${backend.journalPath} is damaged: line 3 is not JSON`);
    await writeFile(backend.journalPath, [lines[0], lines[2], lines[1], ''].join('\n'));
    expect(((await readFresh().catch((e: unknown) => e)) as Error).message).toMatch(/line 3 has serial \d+, not after \d+/);
    expect(await readFile(file, 'utf8')).toBe(fileBefore);
    await backend.compact();
  });

  it('writes whole once the journal outgrows the file, and when the document is another object', async () => {
    const backend = new LocalStateBackend(file);
    const doc = emptyState();
    await backend.write(doc);
    const big = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 20; i++) {
      setEntry(doc, `tenant.t${i}`, { kind: 'tenant', id: `t${i}`, note: big } as StateEntry);
      doc.serial += 1;
      await backend.append(doc);
    }
    // 20 lines of 64 KiB: the journal was folded in once it passed 1 MiB, and started again.
    expect((await stat(backend.journalPath)).size).toBeLessThan(1.2 * 1024 * 1024);
    expect((await stat(file)).size).toBeGreaterThan(1024 * 1024);
    expect(canonical(await readFresh())).toBe(canonical(doc));
    const folded = await readFile(file);
    for (let i = 0; i < 3; i++) {
      setEntry(doc, `tenant.small${i}`, { kind: 'tenant', id: `s${i}` });
      doc.serial += 1;
      await backend.append(doc);
    }
    expect((await readFile(file)).equals(folded)).toBe(true); // small lines after a fold are journal lines again
    expect(canonical(await readFresh())).toBe(canonical(doc));
    const copy = structuredClone(doc);
    copy.serial += 1;
    await backend.append(copy);
    expect(await exists(backend.journalPath)).toBe(false);
    expect(await readFile(file, 'utf8')).toBe(canonical(copy));
  });
});
