/**
 * Access changes in plain words: "`anon` gains SELECT on `public.orders` (rows where
 * `published`)". Shared by the delta (the sentence stored in plans) and the renderers (which
 * merge the sentences of several commands with the same effect).
 */
import { DEFAULT_TENANT_SLUG } from '../resources/tenant.js';
import { describeAccess } from './compute.js';
import type { AccessDeltaEntry, Command, RowAccess } from './types.js';

/** `rows where \`status = 'published'\``, `all rows`, `new rows where \`…\``. */
export function rowsInWords(a: RowAccess, command: Command): string {
  return describeAccess(a, command).replace(/ where (.+?)(?=; |$)/g, (_, p: string) => ` where \`${p}\``);
}

/** The plain-words sentence of an entry (module doc). */
export function sentence(e: Omit<AccessDeltaEntry, 'text'>, commands: readonly Command[] = [e.command]): string {
  const where = `\`${e.table}\`${e.tenant === DEFAULT_TENANT_SLUG ? '' : ` in tenant \`${e.tenant}\``}`;
  const role = `\`${e.role}\``;
  const tail = e.newTable ? ' — new table' : e.droppedTable ? ' — table dropped' : '';
  switch (e.effect) {
    case 'gains':
      return `${role} gains ${commands.join(', ')} on ${where} (${rowsInWords(e.after, e.command)})${tail}`;
    case 'loses':
      return `${role} loses ${commands.join(', ')} on ${where}${!e.droppedTable && e.after.reason ? ` (${e.after.reason})` : ''}${tail}`;
    default: {
      const verb = e.effect === 'changes' ? 'changes (may widen)' : e.effect;
      return `${role} ${commands.join(', ')} on ${where} ${verb}: ${rowsInWords(e.before, e.command)} → ${rowsInWords(e.after, e.command)}`;
    }
  }
}

