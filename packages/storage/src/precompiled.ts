// Hot-path queries built and compiled once per database, then run with new parameters: the query
// builder's per-request work (tree building, plugin walks, SQL generation) is done at start-up.
import { type Compilable, CompiledQuery } from 'kysely';
import type { Db } from './db.js';
import { assertStorable } from './nul-guard.js';

type Slot = { arg: number } | { value: unknown };

/**
 * Wraps a fixed-shape query. `build` must use each argument only as a value (never to choose the
 * query's shape): it runs once with placeholders, and their positions among the parameters are kept.
 */
export function precompiled<A extends unknown[], R>(build: (db: Db, ...args: A) => Compilable<R>): (db: Db, ...args: A) => Promise<R[]> {
  const templates = new WeakMap<Db, { sql: string; slots: Slot[] }>();
  return async (db: Db, ...args: A): Promise<R[]> => {
    let template = templates.get(db);
    if (!template) {
      const placeholders = args.map((_, i) => `\u0001precompiled-arg-${i}\u0001`);
      const compiled = build(db, ...(placeholders as A)).compile();
      const slots = compiled.parameters.map((p): Slot => {
        const index = placeholders.indexOf(p as string);
        return index >= 0 ? { arg: index } : { value: p };
      });
      const used = new Set(slots.flatMap((s) => ('arg' in s ? [s.arg] : [])));
      if (used.size !== args.length) throw new Error('precompiled: every argument must appear as a query parameter');
      template = { sql: compiled.sql, slots };
      templates.set(db, template);
    }
    const parameters = template.slots.map((s) => ('arg' in s ? args[s.arg] : s.value));
    assertStorable(parameters);
    const result = await db.executeQuery<R>(CompiledQuery.raw(template.sql, parameters));
    return result.rows;
  };
}
