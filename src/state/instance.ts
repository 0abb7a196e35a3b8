/**
 * State kept in the Fluxbase instance itself, so every CI runner sees the same state with nothing
 * else to set up: the document is a custom setting of the default tenant (key
 * `fluxbase-iac.state` by default; GET/PUT/POST /api/v1/admin/settings/custom/{key}), and the
 * lock is a second custom setting, `<key>.lock`, created with POST — the server's unique key
 * index makes that create atomic (409 when held). Writing custom settings needs a platform user
 * id, so this backend needs a dashboard admin login (FLUXBASE_ADMIN_EMAIL/PASSWORD).
 * Each write replaces the document with one PUT (atomic on the server). A command's first write
 * puts the document it replaces into `<key>.backup` first, so the backup is the state before the
 * latest command that changed it (as the local backend's, and Terraform's terraform.tfstate.backup)
 * and an apply's later writes cost one PUT each, not two. A lock that expired, or whose owner is a
 * process on the same host that no longer runs, is taken over.
 */
import { ApiError } from '../client/errors.js';
import type { FluxbaseClient } from '../client/http.js';
import { checkState, type StateDocument } from './document.js';
import { StateDamagedError, StateLockedError, type LockInfo, type LockRequest, type StateBackend } from './backend.js';
import { newLockInfo, staleReason } from './local.js';

const ROUTE = '/api/v1/admin/settings/custom';

/** Instance backend (see module doc). */
export class InstanceStateBackend implements StateBackend {
  private readonly client: FluxbaseClient;
  private readonly key: string;
  /** The document as read, until this process's first write backs it up. */
  private last: StateDocument | undefined;
  /** True once this process has put the document it first replaced into `<key>.backup`. */
  private backedUp = false;

  constructor(client: FluxbaseClient, key = 'fluxbase-iac.state') {
    this.client = client;
    this.key = key;
  }

  describe(): string {
    return `custom setting ${this.key} of ${this.client.url}`;
  }

  async read(): Promise<StateDocument | undefined> {
    const value = await this.get(this.key);
    if (value === undefined) return undefined;
    const problem = checkState(value);
    if (problem) {
      const backup = await this.get(`${this.key}.backup`).catch(() => undefined);
      throw new StateDamagedError(this.describe(), problem, backup !== undefined && checkState(backup) === undefined ? `custom setting ${this.key}.backup` : undefined);
    }
    // The caller changes the document it gets in place (serial, pending records): the backup is
    // kept apart from it.
    this.last = value as StateDocument;
    return structuredClone(value) as StateDocument;
  }

  async write(doc: StateDocument): Promise<void> {
    // Copied before the first await: the caller may change `doc` at once (StateBackend.write), and
    // the body is serialised only after the client has logged in. Entries and pending records are
    // replaced, never changed in place (state/document.ts), so copying their containers suffices.
    const copy = { ...doc, resources: { ...doc.resources }, ...(doc.pending ? { pending: [...doc.pending] } : {}) } as StateDocument;
    if (!this.backedUp && this.last) {
      await this.put(`${this.key}.backup`, this.last, 'fluxbase-iac state backup (the state before the latest command that changed it)');
    }
    this.backedUp = true;
    this.last = undefined;
    await this.put(this.key, copy, 'fluxbase-iac state document (managed by fluxbase apply; do not edit)');
  }

  /** PUT …/custom/{key} (one statement on the server: atomic), or POST when it does not exist yet. */
  private async put(key: string, value: unknown, description: string): Promise<void> {
    const res = await this.client.request({
      method: 'PUT',
      route: `${ROUTE}/*`,
      rawPath: `${ROUTE}/${key}`,
      identity: 'user',
      body: { value },
      expect: [200, 404],
    });
    if (res.status === 404) {
      await this.client.request({
        method: 'POST',
        route: ROUTE,
        identity: 'user',
        body: { key, value, value_type: 'json', description },
        expect: [201],
      });
    }
  }

  async lock(req: LockRequest): Promise<() => Promise<void>> {
    const lockKey = `${this.key}.lock`;
    const deadline = Date.now() + req.waitMs;
    for (;;) {
      const info = newLockInfo(req.operation, req.ttlMs);
      const res = await this.client.request({
        method: 'POST',
        route: ROUTE,
        identity: 'user',
        body: { key: lockKey, value: info, value_type: 'json', description: 'fluxbase-iac state lock' },
        expect: [201, 409],
      });
      if (res.status === 201) {
        return async () => {
          const holder = (await this.get(lockKey)) as LockInfo | undefined;
          if (holder?.id === info.id) await this.remove(lockKey);
        };
      }
      const holder = (await this.get(lockKey)) as LockInfo | undefined;
      if (!holder) continue;
      const gone = staleReason(holder);
      if (gone) {
        await this.remove(lockKey);
        req.notice?.(`Took over the state lock of ${holder.owner} (\`${holder.operation}\` since ${holder.created}): ${gone}.`);
        continue;
      }
      if (Date.now() >= deadline || req.signal?.aborted) throw new StateLockedError(holder, this.describe());
      await new Promise((r) => setTimeout(r, 500 + Math.random() * 500));
    }
  }

  async forceUnlock(id: string): Promise<void> {
    const lockKey = `${this.key}.lock`;
    const holder = (await this.get(lockKey)) as LockInfo | undefined;
    if (!holder) throw new Error(`${this.describe()} is not locked`);
    if (holder.id !== id) throw new Error(`lock id ${id} does not match the current lock ${holder.id} (held by ${holder.owner})`);
    await this.remove(lockKey);
  }

  /** GET …/settings/custom/{key} → its value, or undefined on 404. */
  private async get(key: string): Promise<unknown> {
    const res = await this.client.request<{ value: unknown }>({ method: 'GET', route: `${ROUTE}/*`, rawPath: `${ROUTE}/${key}`, expect: [200, 404] });
    return res.status === 404 ? undefined : res.body.value;
  }

  private async remove(key: string): Promise<void> {
    try {
      await this.client.request({ method: 'DELETE', route: `${ROUTE}/*`, rawPath: `${ROUTE}/${key}`, expect: [204, 404] });
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      throw e;
    }
  }
}
