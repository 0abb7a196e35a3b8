/** Paths into cty values and the error type that carries one. */

/** A path into a value: attribute names / map keys (strings) and list indexes (numbers). */
export type ValuePath = readonly (string | number)[];

/** A value that does not fit its cty type; `path` says where. */
export class CtyValueError extends Error {
  constructor(
    /** The problem without the path, e.g. `expected string, got number`. */
    readonly reason: string,
    readonly path: ValuePath,
  ) {
    super(path.length ? `${formatPath(path)}: ${reason}` : reason);
    this.name = 'CtyValueError';
  }
}

/** `a.b[0]["k"]`-style rendering of a path. */
export function formatPath(path: ValuePath): string {
  let out = '';
  for (const step of path) {
    if (typeof step === 'number') out += `[${step}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(step)) out += out ? `.${step}` : step;
    else out += `[${JSON.stringify(step)}]`;
  }
  return out;
}

