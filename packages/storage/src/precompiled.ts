// Hot-path queries built and compiled once per database, then run with new parameters: the query
// builder's per-request work (tree building, plugin walks, SQL generation) is done at start-up.
// Rules and what they buy: packages/storage/README.md ("Precompiled queries").
import { type Compilable, CompiledQuery } from 'kysely';
import type { Db } from './db.js';
import { assertStorable } from './nul-guard.js';

type Slot = { param: string } | { value: unknown };

/** A precompiled query: run it with its parameters; `build` is the Kysely query it stands for (tests compare the two). */
export interface PrecompiledQuery<P extends Record<string, unknown>, R> {
  (db: Db, params: P): Promise<R[]>;
  readonly build: (db: Db, params: P) => Compilable<R>;
}

/**
 * Wraps a fixed-shape query taking its parameters as one object (every key present on every call).
 * `build` must use each parameter only as a value (never to choose the query's shape): it runs once
 * with placeholders, and their positions among the query's parameters are kept.
 */
export function precompiled<P extends Record<string, unknown>, R>(build: (db: Db, params: P) => Compilable<R>): PrecompiledQuery<P, R> {
  const templates = new WeakMap<Db, { sql: string; slots: Slot[] }>();
  const run = async (db: Db, params: P): Promise<R[]> => {
    let template = templates.get(db);
    if (!template) {
      const keys = Object.keys(params);
      const placeholders = Object.fromEntries(keys.map((k) => [k, `\u0001precompiled-${k}\u0001`]));
      const byPlaceholder = new Map(keys.map((k) => [placeholders[k], k]));
      const compiled = build(db, placeholders as P).compile();
      const slots = compiled.parameters.map((p): Slot => {
        const key = typeof p === 'string' ? byPlaceholder.get(p) : undefined;
        return key !== undefined ? { param: key } : { value: p };
      });
      const used = new Set(slots.flatMap((s) => ('param' in s ? [s.param] : [])));
      if (used.size !== keys.length) throw new Error('precompiled: every parameter must appear as a query parameter');
      template = { sql: compiled.sql, slots };
      templates.set(db, template);
    }
    const parameters = template.slots.map((s) => ('param' in s ? params[s.param] : s.value));
    // Kysely plugins (the NUL guard among them) do not run on a precompiled query: check here.
    assertStorable(parameters);
    const result = await db.executeQuery<R>(CompiledQuery.raw(template.sql, parameters));
    return result.rows;
  };
  return Object.assign(run, { build });
}
