// Named prepared statements for every parameterised query: Postgres parses and plans each distinct
// statement once per connection instead of on every execution (the hot paths run a few shapes only).
import { createHash } from 'node:crypto';
import pg from 'pg';

/** Statements prepared per connection before new ones run unnamed (a bound on server memory). */
const MAX_PREPARED_PER_CONNECTION = 500;

/**
 * Names already computed, by statement text: the hot paths send a few texts over and over, and hashing a
 * 1–2 kB text on every query showed in token-service's CPU profile (docs/performance.md). Bounded like the
 * prepared statements themselves: past the bound, names are computed each time.
 */
const names = new Map<string, string>();

function statementName(text: string): string {
  let name = names.get(text);
  if (name === undefined) {
    name = `k_${createHash('sha1').update(text).digest('base64url').slice(0, 22)}`;
    if (names.size < MAX_PREPARED_PER_CONNECTION) names.set(text, name);
  }
  return name;
}

/** A pg Client that sends `query(text, values)` calls as named prepared statements. */
export class PreparingClient extends pg.Client {
  private readonly prepared = new Set<string>();

  // pg's query has many overloads; this one forwards them all.
  override query(config: any, values?: any, callback?: any): any {
    // Only plain SQL with a parameter array (what Kysely sends); transactions, cursors and utility statements pass through.
    if (
      typeof config === 'string' &&
      Array.isArray(values) &&
      values.length > 0 &&
      /^\s*(select|insert|update|delete|with)\b/i.test(config)
    ) {
      const name = statementName(config);
      if (this.prepared.has(name) || this.prepared.size < MAX_PREPARED_PER_CONNECTION) {
        this.prepared.add(name);
        return super.query({ name, text: config, values }, callback);
      }
    }
    return super.query(config, values, callback);
  }
}
