/**
 * The handler registry. Typed so that a resource kind without a handler is a compile error.
 */
import type { ResourceKind } from '../model/resource.js';
import { RESOURCE_KINDS } from '../model/resource.js';
import { policyHandler } from './policy.js';
import { schemaHandler } from './schema.js';
import { tableHandler } from './table.js';
import { tenantHandler } from './tenant.js';
import type { ResourceHandler } from './types.js';
import { webhookHandler } from './webhook.js';

const HANDLERS: { [K in ResourceKind]: ResourceHandler & { kind: K } } = {
  tenant: tenantHandler as ResourceHandler & { kind: 'tenant' },
  schema: schemaHandler as ResourceHandler & { kind: 'schema' },
  table: tableHandler as ResourceHandler & { kind: 'table' },
  policy: policyHandler as ResourceHandler & { kind: 'policy' },
  webhook: webhookHandler as ResourceHandler & { kind: 'webhook' },
};

/** The handler of a kind. */
export function handlerFor(kind: ResourceKind): ResourceHandler {
  return HANDLERS[kind];
}

/** Every handler, in dependency order of their kinds. */
export function allHandlers(): ResourceHandler[] {
  return RESOURCE_KINDS.map((k) => HANDLERS[k]);
}

export type { ResourceHandler } from './types.js';
