/** Colour of the CLI's output (kept apart from io.ts so the CLI entry loads nothing else for it). */

/**
 * Whether output may be coloured: never with `--no-color`; with `FORCE_COLOR` set (to anything but
 * `0` or `false`) always, even without a terminal (CI logs); never with a non-empty `NO_COLOR`
 * (no-color.org: an empty value does not count); otherwise on a terminal whose TERM is not `dumb`.
 */
export function colorEnabled(req: { isTTY: boolean; env: Record<string, string | undefined>; noColorFlag: boolean }): boolean {
  if (req.noColorFlag) return false;
  const force = req.env.FORCE_COLOR;
  if (force !== undefined && force !== '') return !['0', 'false'].includes(force.toLowerCase());
  if (req.env.NO_COLOR !== undefined && req.env.NO_COLOR !== '') return false;
  return req.isTTY && req.env.TERM !== 'dumb';
}
