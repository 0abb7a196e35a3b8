/**
 * Types of the three undici modules the client imports by path (client/http.ts says why): the
 * classes and function undici's own index exports under these names.
 */
declare module 'undici/lib/dispatcher/agent.js' {
  import type { Agent } from 'undici';
  const AgentClass: typeof Agent;
  export default AgentClass;
}

declare module 'undici/lib/dispatcher/retry-agent.js' {
  import type { RetryAgent } from 'undici';
  const RetryAgentClass: typeof RetryAgent;
  export default RetryAgentClass;
}

declare module 'undici/lib/api/index.js' {
  import type { Dispatcher } from 'undici';
  /** `Dispatcher.prototype.request`, to be called with the dispatcher as `this`. */
  export function request(this: Dispatcher, options: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData>;
}
