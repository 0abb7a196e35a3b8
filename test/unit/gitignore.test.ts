import { execFileSync } from 'node:child_process';
import { watch } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LocalStateBackend } from '../../src/state/local.js';
import { emptyState, setEntry } from '../../src/state/document.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('.gitignore', () => {
  it('ignores every file the local state backend creates besides the state: its backup, journal, lock and temporary files', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fluxbase-gitignore-'));
    const seen = new Set<string>();
    const watcher = watch(dir, (_event, name) => {
      if (name) seen.add(name.toString());
    });
    try {
      const backend = new LocalStateBackend(path.join(dir, 'fluxbase.state.json'));
      const release = await backend.lock({ operation: 'test', waitMs: 0, ttlMs: 60_000 });
      const doc = emptyState();
      await backend.write(doc);
      await new LocalStateBackend(backend.path).write(doc); // the next command keeps the first's file as the backup
      setEntry(doc, 'tenant.a', { kind: 'tenant', id: 'a' });
      await backend.append(doc); // a journal line
      await backend.compact();
      await release();
      await new Promise((r) => setTimeout(r, 100)); // let the watcher deliver the last events
    } finally {
      watcher.close();
      await rm(dir, { recursive: true, force: true });
    }
    const names = [...seen].sort();
    expect(names.some((n) => n.endsWith('.lock'))).toBe(true);
    expect(names.some((n) => n.endsWith('.tmp'))).toBe(true);
    expect(names).toContain('fluxbase.state.json.backup');
    expect(names).toContain('fluxbase.state.json.journal');
    // git check-ignore prints the paths it ignores (the paths need not exist)
    const ignored = execFileSync('git', ['check-ignore', '--no-index', ...names], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').sort();
    expect(ignored).toEqual(names);
  });
});
