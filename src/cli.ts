#!/usr/bin/env node
/**
 * The `fluxbase` command line: argv → command. The only module that touches process.exit, the
 * standard streams and signals; commands write through CommandIO and return exit codes.
 *
 * Interrupts: for `apply` and `destroy` the first SIGINT/SIGTERM aborts `io.interrupt` — the
 * command starts no new change, finishes those in flight, saves the state, releases the lock,
 * reports and exits 1 — and a second one stops at once. Other commands stop at once on the first.
 * Stopping at once removes the process's temporary files and its lock (state/cleanup.ts); the
 * state is valid at every moment (each write is atomic).
 */
import { createInterface } from 'node:readline/promises';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { Command, InvalidArgumentError, Option } from 'commander';
import { colorEnabled } from './commands/color.js';
import type { CommandIO } from './commands/io.js';
import { hardExitCleanup } from './state/cleanup.js';
import { VERSION } from './version.js';
import { RESOURCE_KINDS } from './model/resource.js';

// PostgreSQL's parser (libpg-query, 1.7 MB of WebAssembly) runs with V8's baseline compiler only:
// a command parses a few dozen distinct texts (sql/parser.ts memoises), and optimising the module
// in the background cost more CPU than it saved and about 40 MB of memory (docs/performance.md).
setFlagsFromString('--liftoff-only');

// Command modules are imported when their command runs, not here: `--version` and `--help` then
// load only commander, and each command loads only what it needs (no emulator for `plan`, no
// HTTP client for `validate`).
const commands = {
  access: () => import('./commands/access.js'),
  apply: () => import('./commands/apply.js'),
  demo: () => import('./commands/demo.js'),
  export: () => import('./commands/export.js'),
  graph: () => import('./commands/graph.js'),
  local: () => import('./commands/local.js'),
  plan: () => import('./commands/plan.js'),
  show: () => import('./commands/show.js'),
  state: () => import('./commands/state.js'),
  test: () => import('./commands/test.js'),
  validate: () => import('./commands/validate.js'),
};

/** How a command reacts to SIGINT/SIGTERM (see the module doc); `own`: it installs its own handlers. */
type Signals = 'graceful' | 'immediate' | 'own';

const interrupt = new AbortController();
let signalsInstalled = false;

/** Installs the SIGINT/SIGTERM handlers once (see the module doc). */
function installSignals(mode: Exclude<Signals, 'own'>): void {
  if (signalsInstalled) return;
  signalsInstalled = true;
  process.on('exit', hardExitCleanup);
  let received = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    received++;
    if (mode === 'graceful' && received === 1) {
      process.stderr.write(`\nReceived ${signal}: no new changes are started; the changes in flight finish and are saved. Press Ctrl-C again to stop at once.\n`);
      interrupt.abort(signal);
      return;
    }
    process.stderr.write(`\nReceived ${signal}: stopping at once. The state is valid: the next run resolves what was in flight.\n`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

function io(signals: Signals = 'immediate'): CommandIO {
  if (signals !== 'own') installSignals(signals);
  const isTTY = Boolean(process.stdout.isTTY);
  const interactive = isTTY && Boolean(process.stdin.isTTY);
  return {
    out: (t) => process.stdout.write(`${t}\n`),
    err: (t) => process.stderr.write(`${t}\n`),
    isTTY,
    color: colorEnabled({ isTTY, env: process.env, noColorFlag: program.opts<{ color?: boolean }>().color === false }),
    env: process.env,
    interrupt: interrupt.signal,
    ...(interactive
      ? {
          prompt: async (q: string) => {
            const rl = createInterface({ input: process.stdin, output: process.stdout });
            try {
              return await rl.question(q, { signal: interrupt.signal });
            } finally {
              rl.close();
            }
          },
        }
      : {}),
  };
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('It must be a positive integer.');
  return n;
}

function databasePrefix(value: string): string {
  if (!/^[a-z_][a-z0-9_]{0,39}$/.test(value)) throw new InvalidArgumentError('must be 1-40 characters of a-z, 0-9 and _, not starting with a digit');
  return value;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('It must be a port number (0-65535).');
  return n;
}

/**
 * Anything a command did not turn into a diagnostic is a bug: it is reported as one diagnostic
 * naming the command and version to report (and where it happened), never as a stack trace
 * (FLUXBASE_IAC_DEBUG=1 prints the trace too). Exit 1.
 */
function reportUnexpected(e: unknown): void {
  const err = e instanceof Error ? e : new Error(String(e));
  // the command path (`fluxbase local start`), without arguments that could hold anything private
  const words = ['fluxbase'];
  let cmd: Command | undefined = program;
  for (const arg of process.argv.slice(2)) {
    cmd = cmd?.commands.find((c) => c.name() === arg);
    if (!cmd) break;
    words.push(arg);
  }
  const command = words.join(' ');
  // where it happened in this package (not in a dependency), relative to the package
  const root = fileURLToPath(new URL('..', import.meta.url));
  const frame = (err.stack ?? '')
    .split('\n')
    .map((l) => /\(?(?:file:\/\/)?(\/[^()\s]*:\d+:\d+)\)?\s*$/.exec(l)?.[1])
    .find((f) => f?.startsWith(root) && !f.slice(root.length).includes('node_modules'))
    ?.slice(root.length);
  process.stderr.write(
    `error[internal.unexpected]: ${command} failed unexpectedly: ${err.message.split('\n')[0]}\n` +
      `  This is a bug in fluxbase-iac ${VERSION} (Node.js ${process.version}, ${process.platform})${frame ? ` at ${frame}` : ''}. ` +
      `Please report it with this message and the command you ran.\n`,
  );
  if (process.env.FLUXBASE_IAC_DEBUG) process.stderr.write(`${err.stack ?? ''}\n`);
  process.exitCode = 1;
}
process.on('uncaughtException', (e) => {
  reportUnexpected(e);
  process.exit(1);
});
process.on('unhandledRejection', (e) => {
  reportUnexpected(e);
  process.exit(1);
});

const run = (fn: () => Promise<number>) => async () => {
  try {
    process.exitCode = await fn();
  } catch (e) {
    reportUnexpected(e);
  }
};

const program = new Command()
  .name('fluxbase')
  .description('Infrastructure as code for Fluxbase: declare the desired state, plan, apply.')
  .version(VERSION)
  .option('--no-color', 'plain output without ANSI colours (also: NO_COLOR=1; FORCE_COLOR=1 forces colours, e.g. in CI logs)')
  .addHelpText(
    'after',
    '\nEnvironment: FLUXBASE_URL, FLUXBASE_TOKEN, FLUXBASE_ADMIN_EMAIL/FLUXBASE_ADMIN_PASSWORD; FLUXBASE_LOG=debug|trace logs what is sent and received (secrets masked) to stderr or FLUXBASE_LOG_PATH; NO_COLOR, FORCE_COLOR.',
  )
  .configureOutput({ outputError: (s, write) => write(s) });

const configOption = () => new Option('-c, --config <file>', 'configuration file (YAML or JSON, e.g. cdk.out/fluxbase.json)').default('fluxbase.config.yaml');
const appOption = () => new Option('--app <command>', 'synthesise the configuration with a construct app, e.g. "npx tsx infra/fluxbase.ts"');
const connection = (cmd: Command) =>
  cmd
    .addOption(configOption())
    .addOption(appOption())
    .option('--url <url>', 'Fluxbase URL (default: $FLUXBASE_URL)')
    .option('--state <file>', 'state file (default: fluxbase.state.json beside the config)')
    .option('--parallelism <n>', 'concurrent API calls', positiveInt, 4);

program
  .command('validate')
  .description('check the configuration without contacting a server')
  .addOption(configOption())
  .addOption(appOption())
  .action(function (this: Command) {
    return run(async () => (await commands.validate()).validateCommand(io(), this.opts()))();
  });

const lockTimeout = () => new Option('--lock-timeout <seconds>', 'wait this long for the state lock (default: fail at once when it is held)').argParser(positiveInt);
const lockMs = (o: { lockTimeout?: number }) => (o.lockTimeout ? o.lockTimeout * 1000 : 0);
const targeting = (cmd: Command) =>
  cmd
    .option('--target <address...>', 'limit the plan to these resources and what they depend on (exceptional use: e.g. recovering from a mistake)')
    .option('--replace <address...>', 'delete and create these managed resources again even if unchanged (e.g. to rotate a service key)');

const planOptions = (cmd: Command) =>
  connection(cmd)
    .option('--detailed-exitcode', 'exit 0 when there are no changes, 2 when there are changes, 1 on error')
    .option('--out <file>', 'save the plan for `fluxbase apply <file>`')
    .option('--json', 'print the plan as one JSON document (schemas/output/plan.schema.json)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'markdown', 'json']).default('text'))
    .addOption(lockTimeout())
    .option('--no-lock', 'read the state without taking its lock (the plan may then see an apply half-way)');

targeting(planOptions(program.command('plan').description('show what apply would change')))
  .option('--test', "run the configuration's tests on a local emulator first; no plan when they fail")
  .option('--prove', 'copy the live schema (no rows) into a local emulator, apply the plan there, plan again and run the tests: does it converge?')
  .option('--database-url <url>', 'PostgreSQL server (superuser URL) for the local emulator of --test and --prove (default: embedded)')
  .option('--refresh-only', 'report every difference between the live instance and the configuration (drift) without proposing changes; apply refuses such a plan')
  .option('--destroy', 'plan the deletion of every resource the state manages (what `fluxbase destroy` does)')
  .action(function (this: Command) {
    const o = this.opts<{ config: string; lockTimeout?: number }>();
    return run(async () => (await commands.plan()).planCommand(io(), { ...o, lockTimeoutMs: lockMs(o) }))();
  });

planOptions(program.command('drift').description('report drift between the live instance and the configuration (same as plan --refresh-only)'))
  .action(function (this: Command) {
    const o = this.opts<{ config: string; lockTimeout?: number }>();
    return run(async () => (await commands.plan()).planCommand(io(), { ...o, lockTimeoutMs: lockMs(o), refreshOnly: true }))();
  });

const applyOptions = (cmd: Command) =>
  connection(cmd)
    .option('--auto-approve', 'apply without asking for confirmation')
    .option('--allow-hazards <types>', 'comma-separated hazard types to allow (e.g. DELETES_DATA,AUTHZ_CHANGE)')
    .addOption(lockTimeout())
    .option('--json', 'print the result as one JSON document (schemas/output/apply.schema.json)')
    .option('--show-secrets', 'print new key values even when stdout is not a terminal')
    .option('--secrets-out <file>', 'append new key values as NAME=value lines to this file (mode 0600), each as soon as the server returns it')
    .option('--detailed-exitcode', 'exit 0 when there was nothing to apply, 2 when changes were applied, 1 on error');

targeting(applyOptions(program.command('apply').description('apply the changes the plan shows, or a plan saved with `plan --out`')))
  .argument('[plan]', 'a plan file saved by `fluxbase plan --out`')
  .action(function (this: Command, planFile: string | undefined) {
    const o = this.opts<{ config: string; lockTimeout?: number }>();
    return run(async () => (await commands.apply()).applyCommand(io('graceful'), { ...o, planFile, lockTimeoutMs: lockMs(o) }))();
  });

applyOptions(program.command('destroy').description('delete every resource the state manages (built-in objects and the default tenant excepted), behind prevent_destroy and the hazard gate'))
  .option('--target <address...>', 'destroy only these resources (and what must go before them)')
  .action(function (this: Command) {
    const o = this.opts<{ config: string; lockTimeout?: number }>();
    return run(async () => (await commands.apply()).applyCommand(io('graceful'), { ...o, destroy: true, lockTimeoutMs: lockMs(o) }))();
  });

program
  .command('show')
  .description('render a plan saved with `plan --out` (text, Markdown or JSON) without contacting the server')
  .argument('<planfile>', 'the saved plan')
  .option('--json', 'print the plan document as JSON')
  .addOption(new Option('--format <format>', 'output format').choices(['text', 'markdown', 'json']).default('text'))
  .action(function (this: Command, planFile: string) {
    return run(async () => (await commands.show()).showCommand(io(), { ...this.opts(), planFile }))();
  });

program
  .command('graph')
  .description('print the dependency graph of the configuration (or of a saved plan) as Graphviz DOT or Mermaid; no server contacted')
  .addOption(configOption())
  .addOption(appOption())
  .addOption(new Option('--format <format>', 'graph format').choices(['dot', 'mermaid']).default('dot'))
  .option('--plan <file>', "draw a saved plan's changes and what each waits for instead")
  .action(function (this: Command) {
    return run(async () => (await commands.graph()).graphCommand(io(), this.opts()))();
  });

connection(program.command('import').description('adopt live resources the configuration declares into the state'))
  .argument('<address...>', 'resource addresses, e.g. webhook.acme.legacy-hook')
  .addOption(lockTimeout())
  .action(function (this: Command, addresses: string[]) {
    const o = this.opts<{ config: string; lockTimeout?: number }>();
    return run(async () => (await commands.state()).importCommand(io(), { ...o, addresses, lockTimeoutMs: lockMs(o) }))();
  });

const stateCommand = program.command('state').description('read and edit the state: what this configuration manages');
const stateSource = (cmd: Command) =>
  cmd
    .addOption(configOption())
    .addOption(appOption())
    .option('--state <file>', 'state file (default: fluxbase.state.json beside the config)')
    .option('--url <url>', 'Fluxbase URL, for state kept in the instance (default: $FLUXBASE_URL)');
stateSource(stateCommand.command('list').description('list the managed resource addresses (those under ADDRESS…, when given)'))
  .argument('[address...]', 'only addresses equal to or inside these')
  .action(function (this: Command, addresses: string[]) {
    return run(async () => (await commands.state()).stateListCommand(io(), { ...this.opts<{ config: string }>(), addresses }))();
  });
stateSource(stateCommand.command('show').description('show what the state records for one resource (never a secret)'))
  .argument('<address>', 'a managed resource address')
  .action(function (this: Command, address: string) {
    return run(async () => (await commands.state()).stateShowCommand(io(), { ...this.opts<{ config: string }>(), address }))();
  });
stateSource(stateCommand.command('rm').description('stop managing resources without deleting them (they are left live, as not managed)'))
  .argument('<address...>', 'managed resource addresses')
  .addOption(lockTimeout())
  .action(function (this: Command, addresses: string[]) {
    const o = this.opts<{ config: string; lockTimeout?: number }>();
    return run(async () => (await commands.state()).stateRmCommand(io(), { ...o, addresses, lockTimeoutMs: lockMs(o) }))();
  });
stateSource(stateCommand.command('mv').description('give a managed resource another address without touching the live object (as `moved:` does)'))
  .argument('<from>', 'the current address')
  .argument('<to>', 'the new address')
  .addOption(lockTimeout())
  .action(function (this: Command, from: string, to: string) {
    const o = this.opts<{ config: string; lockTimeout?: number }>();
    return run(async () => (await commands.state()).stateMvCommand(io(), { ...o, from, to, lockTimeoutMs: lockMs(o) }))();
  });

program
  .command('test')
  .description("run the configuration's tests: (RLS cases) on a fresh local emulator, never on a real instance")
  .addOption(configOption())
  .addOption(appOption())
  .option('--database-url <url>', 'run the emulator on this PostgreSQL server (a superuser URL) instead of embedded PostgreSQL')
  .option('--junit <file>', 'also write a JUnit XML report to this file')
  .action(function (this: Command) {
    return run(async () => (await commands.test()).testCommand(io(), this.opts()))();
  });

program
  .command('access')
  .description('show who can reach which rows: tables × roles × commands, and who reaches each role (the configuration, or --live)')
  .addOption(configOption())
  .addOption(appOption())
  .option('--live', 'read the live instance (--url / FLUXBASE_URL) instead of the configuration')
  .option('--url <url>', 'Fluxbase URL for --live (default: $FLUXBASE_URL)')
  .option('--role <role>', 'only this role, e.g. anon: what can an anonymous caller reach?')
  .option('--tenant <slug...>', 'only these tenants')
  .option('--json', 'print one JSON document (format fluxbase-iac-access)')
  .addOption(new Option('--format <format>', 'output format').choices(['text', 'markdown', 'json']).default('text'))
  .option('--parallelism <n>', 'concurrent API calls (--live)', positiveInt, 4)
  .action(function (this: Command) {
    return run(async () => (await commands.access()).accessCommand(io(), this.opts()))();
  });

program
  .command('export')
  .description('write the configuration that declares what is live (fluxbase.config.yaml)')
  .option('-o, --out <file>', 'output file, or - for standard output', 'fluxbase.config.yaml')
  .option('--tenant <slug...>', 'export only these tenants (instance-wide kinds are always exported)')
  .option('--kinds <kinds>', `comma-separated resource kinds to export (with the kinds they live in): ${RESOURCE_KINDS.join(', ')}`)
  .option('--adopt', 'also record everything exported as managed in the state beside the output (write-only values as unknown)')
  .option('--include-internal', "also declare Fluxbase's own tables (as external) and settings at their defaults")
  .option('--force', 'overwrite the output file')
  .option('--state <file>', 'state file for --adopt (default: fluxbase.state.json beside the output)')
  .option('--url <url>', 'Fluxbase URL (default: $FLUXBASE_URL)')
  .option('--parallelism <n>', 'concurrent API calls', positiveInt, 4)
  .option('--lock-timeout <seconds>', 'wait this long for the state lock (--adopt)', positiveInt)
  .action(function (this: Command) {
    const o = this.opts<{ lockTimeout?: number }>();
    return run(async () => (await commands.export()).exportCommand(io(), { ...o, lockTimeoutMs: lockMs(o) }))();
  });

program
  .command('force-unlock')
  .description('remove a stuck state lock (only when the run that holds it is gone)')
  .argument('<id>', 'the lock id printed by the command that found the state locked')
  .addOption(configOption())
  .option('--state <file>', 'state file (default: fluxbase.state.json beside the config)')
  .action(function (this: Command, id: string) {
    return run(async () => (await commands.state()).forceUnlockCommand(io(), { ...this.opts<{ config: string }>(), id }))();
  });

const local = program.command('local').description('run a local Fluxbase-compatible server');
local
  .command('start')
  .description('start the local Fluxbase emulator in the foreground')
  .option('--port <n>', 'port to listen on', port, 8080)
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option('--data-dir <dir>', 'persist the embedded PostgreSQL data here (default: in memory)')
  .option('--database-url <url>', 'use this PostgreSQL server instead of the embedded one (one database per tenant)')
  .option('--database-prefix <prefix>', 'with --database-url: name the databases <prefix>main, <prefix>tenant_<slug> and keep them when stopped, so a restart carries on with the same data', databasePrefix)
  .option('--debug', 'behave like a server with FLUXBASE_DEBUG=true: accept private, loopback and unresolvable webhook URLs (default: refused, as on a production server)')
  .option('--migrations-allowed-ip-ranges <cidrs>', "the migrations API's IP allowlist, comma-separated (default: the server's 172.16.0.0/12,10.0.0.0/8,192.168.0.0/16,127.0.0.0/8)")
  .action(async function (this: Command) {
    // The first SIGINT/SIGTERM stops the server (at once during start-up); a second one, or a
    // stop that takes over 10 s, exits without waiting.
    const controller = new AbortController();
    const stop = (signal: NodeJS.Signals) => {
      if (controller.signal.aborted) process.exit(signal === 'SIGINT' ? 130 : 143);
      controller.abort();
      setTimeout(() => process.exit(1), 10_000).unref();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    await run(async () => (await commands.local()).localStartCommand(io('own'), this.opts(), controller.signal))();
    process.exit(process.exitCode ?? 0);
  });

program
  .command('demo')
  .description('start an in-memory emulator, apply the configuration, show a clean second plan, stop')
  .option('-c, --config <file>', 'configuration to demo (default: the example fluxbase.config.yaml shipped with fluxbase-iac)')
  .action(function (this: Command) {
    return run(async () => (await commands.demo()).demoCommand(io(), this.opts()))();
  });

/**
 * A usage error prints its one line and the command's usage line, not the whole help: e.g.
 * `error: unknown option '--bogus'` then `Usage: fluxbase plan [options]` and where to find more.
 */
const usageAfterErrors = (cmd: Command, prefix: string): void => {
  const name = `${prefix}${cmd.name()}`;
  cmd.showHelpAfterError(`Usage: ${name} ${cmd.usage()}\nRun '${name} --help' for the options.`);
  for (const sub of cmd.commands) usageAfterErrors(sub, `${name} `);
};
usageAfterErrors(program, '');

await program.parseAsync(process.argv);
