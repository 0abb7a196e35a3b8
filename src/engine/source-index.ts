import type { SourceLocation } from '../diag/index.js';

/** 1-based line/column range of a YAML node. */
export interface SourceRange {
  start: SourceLocation;
  end: SourceLocation;
}

/**
 * Where each value of a loaded document came from: JSON pointer (`/tenants/acme/webhooks/x/url`,
 * RFC 6901 escaping) → the range of its value node and, for map entries, of its key. Built by the
 * YAML loader and by the construct synthesiser (which has no file positions and leaves it empty).
 *
 * The loader may defer the work (`build`): the index is then filled on the first lookup, so a
 * configuration without problems never pays for positions. {@link locateLater} hands out
 * locations that are looked up only when read.
 */
export class SourceIndex {
  readonly file: string;
  private readonly values = new Map<string, SourceRange>();
  private readonly keys = new Map<string, SourceRange>();
  private build: ((index: SourceIndex) => void) | undefined;
  private locator: ((pointer: string, preferKey: boolean) => SourceLocation | undefined) | undefined;

  /** `build` fills a deferred index (with {@link set}) on the first lookup. */
  constructor(file: string, build?: (index: SourceIndex) => void) {
    this.file = file;
    this.build = build;
  }

  /** True while a deferred index has not been built (nothing asked for a position yet). */
  get deferred(): boolean {
    return this.build !== undefined;
  }

  /** Records the range of the value at `pointer` (and of its map key, when it has one). */
  set(pointer: string, value: SourceRange, key?: SourceRange): void {
    this.values.set(pointer, value);
    if (key) this.keys.set(pointer, key);
  }

  /**
   * Answers lookups with `locate` (which walks the document's structure per lookup) instead of
   * recorded ranges: a deferred index of a large document then records nothing.
   */
  locateWith(locate: (pointer: string, preferKey: boolean) => SourceLocation | undefined): void {
    this.locator = locate;
  }

  /**
   * The location of the value at `pointer`, or of its nearest ancestor that has one (an ajv error
   * about a missing property points at the object that lacks it). `preferKey` returns the key's
   * position for map entries (for "unknown key" and "bad name" errors).
   */
  locate(pointer: string, preferKey = false): SourceLocation | undefined {
    if (this.build) {
      const build = this.build;
      this.build = undefined;
      build(this);
    }
    if (this.locator) return this.locator(pointer, preferKey);
    let p = pointer;
    for (;;) {
      const hit = (preferKey && this.keys.get(p)) || this.values.get(p);
      if (hit) return hit.start;
      if (p === '') return undefined;
      p = p.slice(0, p.lastIndexOf('/'));
    }
  }

  /**
   * {@link locate}, but for a deferred index the lookup happens when `line` or `column` is first
   * read (a deferred index always has the document's root, so there is always a location).
   * Resource handlers use it for every declaration; only diagnostics ever read one.
   */
  locateLater(pointer: string, preferKey = false): SourceLocation | undefined {
    if (!this.build) return this.locate(pointer, preferKey);
    let found: SourceLocation | undefined;
    const get = () => (found ??= this.locate(pointer, preferKey) ?? { file: this.file, line: 1, column: 1 });
    return {
      file: this.file,
      get line() {
        return get().line;
      },
      get column() {
        return get().column;
      },
    };
  }
}

/** Encodes path segments as a JSON pointer (RFC 6901). */
export function toPointer(path: readonly (string | number)[]): string {
  return path.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** Decodes a JSON pointer into path segments (all strings). */
export function fromPointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}
