/**
 * Vitest global setup: one PostgreSQL server for the whole run (see ./postgres.ts), exposed to
 * tests as `inject('databaseUrl')`. Emulators under test each get their own database prefix on
 * it, so test files can run in parallel.
 */
import type { TestProject } from 'vitest/node';
import { startTestPostgres } from './postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of the test PostgreSQL server. */
    databaseUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const pg = await startTestPostgres();
  project.provide('databaseUrl', pg.url);
  return () => pg.stop();
}
