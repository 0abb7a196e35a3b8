/**
 * RLS tests as constructs: the `tests:` section of the config (schemas/tests.schema.json,
 * docs/access.md). {@link RlsTest} declares one case, {@link TestFixtures} a tenant's fixture
 * rows, and {@link Table.addFixtures} adds rows for one table. `fluxbase test --app CMD` runs them.
 *
 * ```ts
 * posts.addFixtures([{ id: 1, author_id: alice, status: 'published' }]);
 * new RlsTest(app, 'anon reads published posts', { select: 'public.posts', expect: { rows: [{ id: 1 }] } });
 * ```
 */
import type { Construct } from 'constructs';
import type { FixtureRow, TenantFixtures, TestCase } from '../model/config.generated.js';
import { FluxbaseConstruct, internalsOf } from './base.js';
import type { FluxbaseApp } from './app.js';

/** Props of an {@link RlsTest}: the config's test case (one statement, as a role, and what must happen). */
export interface RlsTestProps extends TestCase {}

/** One RLS test case, `tests.cases.<name>`. */
export class RlsTest extends FluxbaseConstruct {
  /** True for an RlsTest from any copy of this library. */
  static isRlsTest(x: unknown): x is RlsTest {
    return FluxbaseConstruct.isFluxbaseConstruct(x) && x.kind === 'rls_test';
  }

  declare readonly kind: 'rls_test';

  /** @param name what the case proves, e.g. "anon reads only published posts". */
  constructor(scope: FluxbaseApp, name: string, props: RlsTestProps) {
    super(scope, name, 'rls_test', props);
  }
}

/** Props of {@link TestFixtures}: rows by table (`schema.table`). */
export interface TestFixturesProps extends TenantFixtures {}

/** Fixture rows of one tenant, `tests.fixtures.<slug>`. */
export class TestFixtures extends FluxbaseConstruct {
  /** True for a TestFixtures from any copy of this library. */
  static isTestFixtures(x: unknown): x is TestFixtures {
    return FluxbaseConstruct.isFluxbaseConstruct(x) && x.kind === 'test_fixtures';
  }

  declare readonly kind: 'test_fixtures';

  /** @param tenant the slug of the tenant the rows belong to. */
  constructor(scope: FluxbaseApp, tenant: string, props: TestFixturesProps = {}) {
    super(scope, tenant, 'test_fixtures', props);
  }

  /** Appends rows for a table (`schema.table`). */
  addRows(table: string, rows: readonly FixtureRow[]): this {
    const props = internalsOf(this)!.props as Record<string, FixtureRow[] | undefined>;
    props[table] = [...(props[table] ?? []), ...rows];
    return this;
  }

  /** The fixtures of `tenant` under `app`, created on first use. */
  static of(app: Construct, tenant: string): TestFixtures {
    const existing = app.node.findAll().find((c): c is TestFixtures => TestFixtures.isTestFixtures(c) && c.name === tenant);
    return existing ?? new TestFixtures(app as FluxbaseApp, tenant);
  }
}
