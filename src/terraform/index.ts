/**
 * Terraform provider framework (plugin protocol 6). Declare a provider with
 * `defineProvider` / `defineResource`, run it with `serve`. See
 * docs/terraform-provider.md.
 */
export { defineProvider, defineResource, defineDataSource } from './framework.js';
export type { ProviderDefinition, ResourceDefinition, DataSourceDefinition, CallContext, PlanContext, ValidateContext, Planned } from './framework.js';
export type { AttributeSpec, BlockSpec, NestedBlockSpec, NestedAttributesSpec, ResourceSchemaSpec, AttributeValidator } from './schema.js';
export { SchemaError } from './schema.js';
export { t, type CtyType } from './cty/types.js';
export { Unknown, unknown, isUnknown, isWhollyKnown, type Refinements, type ValuePath } from './cty/values.js';
export { Diagnostics, DiagnosticError, type Diagnostic } from './diagnostics.js';
export type { Logger } from './log.js';
export type { PrivateState } from './private-state.js';
export { serve, type ServeOptions, type ServeHandle } from './serve.js';
export { compileProvider } from './provider-server.js';
