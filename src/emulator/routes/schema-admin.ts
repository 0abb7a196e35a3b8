/**
 * The schema-admin subgroup (`internal/api/routes/schema_admin.go`), registered in the server's
 * order. Default roles admin, instance_admin, tenant_admin; RLS toggle and policy
 * create/update/delete are admin + instance_admin only.
 */
import type { EmulatorApp } from '../app.js';
import type { Router } from '../http/router.js';
import { ADMIN_ONLY, ADMIN_PREFIX, adminChain } from './chains.js';
import { addColumn, createSchema, createTable, deleteTable, dropColumn, listSchemasDdl, listTablesDdl, renameTable } from './ddl.js';
import { executeQueryStub, getSchemasLegacy, getTables, getTableSchema, refreshSchema } from './introspection.js';
import { disableRealtime, enableRealtime, getRealtimeStatus, listRealtimeTables, updateRealtimeConfig } from './realtime.js';
import { executeSql } from './sql.js';
import { createPolicy, deletePolicy, listPolicies, policyTemplates, securityWarnings, tableRlsStatus, tablesWithRls, toggleRls, updatePolicy } from './policies.js';

export function registerSchemaAdmin(router: Router, app: EmulatorApp): void {
  const p = ADMIN_PREFIX;
  const d = adminChain(app);
  const adminOnly = adminChain(app, ADMIN_ONLY);

  router.add('GET', `${p}/tables`, ...d, getTables);
  router.add('GET', `${p}/tables/:schema/:table`, ...d, getTableSchema);
  router.add('GET', `${p}/schemas`, ...d, getSchemasLegacy);
  router.add('POST', `${p}/query`, ...d, executeQueryStub);

  router.add('GET', `${p}/ddl/schemas`, ...d, listSchemasDdl);
  router.add('POST', `${p}/ddl/schemas`, ...d, createSchema);
  router.add('GET', `${p}/ddl/tables`, ...d, listTablesDdl);
  router.add('POST', `${p}/ddl/tables`, ...d, createTable);
  router.add('DELETE', `${p}/ddl/tables/:schema/:table`, ...d, deleteTable);
  router.add('POST', `${p}/schemas`, ...d, createSchema);
  router.add('POST', `${p}/tables`, ...d, createTable);
  router.add('DELETE', `${p}/tables/:schema/:table`, ...d, deleteTable);
  router.add('PATCH', `${p}/tables/:schema/:table`, ...d, renameTable);
  router.add('POST', `${p}/tables/:schema/:table/columns`, ...d, addColumn);
  router.add('DELETE', `${p}/tables/:schema/:table/columns/:column`, ...d, dropColumn);

  router.add('POST', `${p}/realtime/tables`, ...d, enableRealtime);
  router.add('GET', `${p}/realtime/tables`, ...d, listRealtimeTables);
  router.add('GET', `${p}/realtime/tables/:schema/:table`, ...d, getRealtimeStatus);
  router.add('PATCH', `${p}/realtime/tables/:schema/:table`, ...d, updateRealtimeConfig);
  router.add('DELETE', `${p}/realtime/tables/:schema/:table`, ...d, disableRealtime);

  router.add('POST', `${p}/sql/execute`, ...d, executeSql(app));
  router.add('POST', `${p}/schema/refresh`, ...d, refreshSchema);

  router.add('GET', `${p}/tables/rls`, ...d, tablesWithRls);
  router.add('GET', `${p}/tables/:schema/:table/rls`, ...d, tableRlsStatus);
  router.add('POST', `${p}/tables/:schema/:table/rls/toggle`, ...adminOnly, toggleRls);

  router.add('GET', `${p}/policies`, ...d, listPolicies);
  router.add('POST', `${p}/policies`, ...adminOnly, createPolicy);
  router.add('GET', `${p}/policies/:schema/:table/:policy`, ...d, tableRlsStatus);
  router.add('PUT', `${p}/policies/:schema/:table/:policy`, ...adminOnly, updatePolicy);
  router.add('DELETE', `${p}/policies/:schema/:table/:policy`, ...adminOnly, deletePolicy);
  router.add('GET', `${p}/policies/templates`, ...d, policyTemplates);
  router.add('GET', `${p}/security/warnings`, ...d, securityWarnings);
}
