/**
 * Statement splitting for POST /sql/execute, like the server's `pg_query.SplitWithParser`:
 * the PostgreSQL parser (the `libpg-query` package) gives each statement's byte location and
 * length; statements are cut out and trimmed, without the trailing `;`. When the script does not
 * parse, the server falls back to a naive split on `;` — so does this.
 */
import { parse } from 'libpg-query';

interface RawStmt {
  stmt_location?: number;
  stmt_len?: number;
}

/** Naive fallback: split on every `;`, trim, drop empties. */
export function naiveSplit(query: string): string[] {
  return query
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Splits a script into trimmed statements (empty list for a script of comments only). */
export async function splitStatements(query: string): Promise<string[]> {
  let stmts: RawStmt[];
  try {
    const res = (await parse(query)) as { stmts?: RawStmt[] };
    stmts = res.stmts ?? [];
  } catch {
    return naiveSplit(query);
  }
  const bytes = Buffer.from(query, 'utf8');
  const out: string[] = [];
  for (const s of stmts) {
    const start = s.stmt_location ?? 0;
    const end = s.stmt_len ? start + s.stmt_len : bytes.length;
    const text = bytes.subarray(start, end).toString('utf8').trim();
    if (text !== '') out.push(text);
  }
  return out;
}
