/**
 * Resource private state: bytes Terraform stores beside a resource's state and hands back to the
 * provider on the next read, plan and apply (`private`, `prior_private`, `planned_private`),
 * never shown to users. The framework exposes it to callbacks as a JSON object
 * (`ctx.private`); bytes that are not a JSON object are passed through untouched unless a
 * callback replaces them.
 */

/** A callback's view of the resource's private state. */
export interface PrivateState {
  /** The current value, or undefined when there is none (or it is not a JSON object). */
  get(): Record<string, unknown> | undefined;
  /** Replaces the value; undefined clears it. */
  set(value: Record<string, unknown> | undefined): void;
}

/** Private state read from protocol bytes; `bytes()` gives what to send back. */
export class PrivateBytes implements PrivateState {
  private value: Record<string, unknown> | undefined;
  private changed = false;

  constructor(private readonly original: Buffer | Uint8Array | null | undefined) {
    if (original && original.length > 0) {
      try {
        const parsed = JSON.parse(Buffer.from(original).toString('utf8')) as unknown;
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) this.value = parsed as Record<string, unknown>;
      } catch {
        // Not ours: kept as it is unless replaced.
      }
    }
  }

  get(): Record<string, unknown> | undefined {
    return this.value;
  }

  set(value: Record<string, unknown> | undefined): void {
    this.value = value;
    this.changed = true;
  }

  /** The bytes for the response: the original unless `set` was called. */
  bytes(): Buffer {
    if (!this.changed) return this.original ? Buffer.from(this.original) : Buffer.alloc(0);
    return this.value === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(this.value));
  }
}
