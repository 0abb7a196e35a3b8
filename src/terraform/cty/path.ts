/** Paths into cty values and the error type that carries one. */

/** A path into a value: attribute names / map keys (strings) and list indexes (numbers). */
export type ValuePath = readonly (string | number)[];

/**
 * Where a value sits, as a walk over a larger value descends: a path given by the caller, or a
 * step below another location. A walk allocates one small object per step instead of copying the
 * path at every node, and the {@link ValuePath} is built ({@link pathOf}) only when a problem is
 * reported.
 */
export type Location = ValuePath | { readonly up: Location; readonly key: string | number };

/** The location of `key` below `up`. */
export function below(up: Location, key: string | number): Location {
  return { up, key };
}

/** The path of a location. */
export function pathOf(loc: Location): ValuePath {
  const keys: (string | number)[] = [];
  let l = loc;
  while (!isPath(l)) {
    keys.push(l.key);
    l = l.up;
  }
  return keys.length === 0 ? l : [...l, ...keys.reverse()];
}

function isPath(l: Location): l is ValuePath {
  return Array.isArray(l);
}

/** A value that does not fit its cty type; `path` says where. */
export class CtyValueError extends Error {
  readonly path: ValuePath;
  constructor(
    /** The problem without the path, e.g. `expected string, got number`. */
    readonly reason: string,
    at: Location,
  ) {
    const path = pathOf(at);
    super(path.length ? `${formatPath(path)}: ${reason}` : reason);
    this.path = path;
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

