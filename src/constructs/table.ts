/** Table and Policy constructs. */
import type { FixtureRow, Policy as PolicyConfig, Table as TableConfig } from '../model/config.generated.js';
import { FluxbaseConstruct, ownerOf } from './base.js';
import { TestFixtures } from './tests.js';
import type { Schema } from './tenant.js';

/**
 * Props of a {@link Table}: exactly the config's `Table` — typed `columns` (in creation order),
 * `indexes`, `checks`, `rls`, `realtime`, `external`, `lifecycle`. Policies given inline in
 * `rls.policies` become {@link Policy} constructs, like those added with {@link Table.addPolicy}.
 */
export interface TableProps extends TableConfig {}

/** Props of a {@link Policy}: the config's `Policy` (command, roles, permissive, using, with_check, lifecycle). */
export interface PolicyProps extends PolicyConfig {}

/** A table, `tenants.<slug>.schemas.<schema>.tables.<name>`. Children: Policy. */
export class Table extends FluxbaseConstruct {
  /** True for a Table from any copy of this library. */
  static isTable(x: unknown): x is Table {
    return FluxbaseConstruct.isFluxbaseConstruct(x) && x.kind === 'table';
  }

  declare readonly kind: 'table';

  /** @param name a lower-case PostgreSQL identifier. */
  constructor(scope: Schema, name: string, props: TableProps = {}) {
    const { rls, ...rest } = props;
    const { policies, ...rlsRest } = rls ?? {};
    super(scope, name, 'table', rls === undefined ? rest : { ...rest, rls: rlsRest });
    for (const [policyName, policy] of Object.entries(policies ?? {})) {
      if (policy) new Policy(this, policyName, policy);
    }
  }

  /**
   * Adds fixture rows for this table to the tests (`tests.fixtures.<tenant>["<schema>.<table>"]`,
   * loaded by `fluxbase test` before the cases) and returns the table.
   */
  addFixtures(rows: readonly FixtureRow[]): this {
    const schema = ownerOf(this) as FluxbaseConstruct | undefined;
    const tenant = schema ? (ownerOf(schema) as FluxbaseConstruct | undefined) : undefined;
    if (schema && tenant) TestFixtures.of(this.node.root, tenant.name).addRows(`${schema.name}.${this.name}`, rows);
    return this;
  }

  /** Adds a row-level security policy (`rls.policies.<name>`) and returns it. */
  addPolicy(name: string, props: PolicyProps = {}): Policy {
    return new Policy(this, name, props);
  }
}

/** A row-level security policy of a table, `…tables.<table>.rls.policies.<name>`. */
export class Policy extends FluxbaseConstruct {
  /** True for a Policy from any copy of this library. */
  static isPolicy(x: unknown): x is Policy {
    return FluxbaseConstruct.isFluxbaseConstruct(x) && x.kind === 'policy';
  }

  declare readonly kind: 'policy';

  /** @param name a lower-case PostgreSQL identifier. */
  constructor(scope: Table, name: string, props: PolicyProps = {}) {
    super(scope, name, 'policy', props);
  }
}
