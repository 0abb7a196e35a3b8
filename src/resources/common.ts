/**
 * Helpers shared by resource handlers: declaration lookup, lifecycle resolution, hazards.
 */
import type { Hazard, HazardType } from '../model/plan.js';
import type { Lifecycle } from '../model/config.generated.js';
import type { SourceIndex } from '../engine/source-index.js';
import { toPointer } from '../engine/source-index.js';
import type { SourceLocation } from '../diag/index.js';
import type { DesiredResource } from '../model/resource.js';

/** Where the config path is declared (the key's position), if known. */
export function sourceOf(sources: SourceIndex, path: readonly string[]): SourceLocation | undefined {
  return sources.locateLater(toPointer(path), true);
}

/**
 * Where a part of a declaration is: the first of `paths` (relative to the resource, dotted) that
 * DesiredResource.sources knows, else the resource's own position.
 */
export function sourceAt(d: DesiredResource, ...paths: string[]): SourceLocation | undefined {
  for (const p of paths) if (d.sources?.[p]) return d.sources[p];
  return d.source;
}

/**
 * Positions of the given parts of a declaration (relative dotted paths) for DesiredResource.sources;
 * `key: true` locates the key rather than the value.
 */
export function sourcesOf(sources: SourceIndex, path: readonly string[], parts: readonly { at: string; key?: boolean }[]): Record<string, SourceLocation> {
  const out: Record<string, SourceLocation> = {};
  for (const { at, key } of parts) {
    const location = sources.locateLater(toPointer([...path, ...at.split('.')]), key ?? false);
    if (location) out[at] = location;
  }
  return out;
}

/** `lifecycle.prevent_destroy` of a resource, else the inherited default. */
export function preventDestroy(lifecycle: Lifecycle | undefined, inherited: boolean): boolean {
  return lifecycle?.prevent_destroy ?? inherited;
}

/** Builds a hazard. */
export function hazard(type: HazardType, message: string): Hazard {
  return { type, message };
}

/** Drops undefined properties (so "not declared" never looks like a declared `undefined`). */
export function compact<T extends Record<string, unknown>>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}

/**
 * Groups list items by name, keeping the server's order within each group. Used where the server
 * does not enforce unique names (OAuth providers, client keys), so one address may match several
 * live objects.
 */
export function groupByName<T>(items: readonly T[], name: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = name(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}
