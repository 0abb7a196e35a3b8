/**
 * The emulator as its own process — `fluxbase local start --database-url URL --database-prefix P`
 * (dist/cli.js) on the test PostgreSQL server — so a test can kill it outright (SIGKILL) and start
 * it again on the same databases, as a server crash and restart would. The JWT secret is fixed, so
 * tokens stay valid across restarts. `dispose()` stops it and drops its databases.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/cli.js');

export class EmulatorProcess {
  readonly prefix: string;
  readonly jwtSecret = randomBytes(24).toString('hex');
  /** The dashboard admin `local start` creates at the first start and logs in as after a restart. */
  readonly admin = { email: 'chaos-admin@example.com', password: randomBytes(18).toString('base64url') };
  private child: ChildProcess | undefined;
  port = 0;
  token = '';
  /** How many times the process was started. */
  starts = 0;

  private constructor(
    readonly databaseUrl: string,
    prefix: string,
    private readonly extraArgs: string[],
  ) {
    this.prefix = prefix;
  }

  /** Starts an emulator process with its own database prefix (e.g. `fbchaos_1_`). */
  static async start(databaseUrl: string, prefix: string, extraArgs: string[] = []): Promise<EmulatorProcess> {
    const emu = new EmulatorProcess(databaseUrl, prefix, extraArgs);
    await emu.launch();
    return emu;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private async launch(): Promise<void> {
    const child = spawn(
      process.execPath,
      [CLI, 'local', 'start', '--port', '0', '--database-url', this.databaseUrl, '--database-prefix', this.prefix, ...this.extraArgs],
      {
        env: { PATH: process.env.PATH ?? '', FLUXBASE_AUTH_JWT_SECRET: this.jwtSecret, FLUXBASE_ADMIN_EMAIL: this.admin.email, FLUXBASE_ADMIN_PASSWORD: this.admin.password },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child = child;
    this.starts++;
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (b: Buffer) => {
        out += b.toString();
        const url = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
        const token = /FLUXBASE_TOKEN=(\S+)/.exec(out);
        if (url && token) {
          this.port = Number(url[1]);
          this.token = token[1]!;
          child.stdout!.off('data', onData);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
      child.once('exit', (code) => reject(new Error(`emulator exited (${code}) before listening:\n${out}`)));
    });
    child.stdout!.resume();
    child.stderr!.resume();
  }

  /** Kills the process at once (SIGKILL), as a crash would. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  /** Starts it again on the same databases (a new port). */
  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  /** Physical database names: the main database and each tenant's. */
  database(tenant?: string): string {
    return `${this.prefix}${tenant ? `tenant_${tenant}` : 'main'}`;
  }

  /** Stops the process and drops its databases. */
  async dispose(): Promise<void> {
    await this.kill();
    const admin = new pg.Client({ connectionString: this.databaseUrl });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [this.prefix]);
      for (const r of rows) await admin.query(`DROP DATABASE IF EXISTS "${r.datname}" WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  }
}
