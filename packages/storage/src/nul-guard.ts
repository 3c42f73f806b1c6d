// Postgres text cannot hold U+0000: a query carrying one is refused as bad input (a 4xx), not sent to fail as a 500.
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';

/** Carries `statusCode` 400 so every app's error handler answers it as the caller's mistake. */
export class UnstorableTextError extends Error {
  override name = 'UnstorableTextError';
  readonly statusCode = 400;
  readonly code = 'ERR_UNSTORABLE_TEXT';
  constructor() {
    super('a value contains a NUL character, which cannot be stored or looked up');
  }
}

function containsNul(node: unknown): boolean {
  if (typeof node === 'string') return node.includes('\u0000');
  if (Array.isArray(node)) return node.some(containsNul);
  // Only the plain objects of the operation tree: Dates and Buffers carry no text.
  if (node === null || typeof node !== 'object' || Object.getPrototypeOf(node) !== Object.prototype) return false;
  return Object.values(node).some(containsNul);
}

export class NulGuardPlugin implements KyselyPlugin {
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    if (containsNul(args.node)) throw new UnstorableTextError();
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

/** Whether a text can reach a query: the NUL guard refuses one with U+0000 (UnstorableTextError). */
export function isStorableText(value: string): boolean {
  return !containsNul(value);
}

/** The same refusal for the parameters of a precompiled query (which skips the plugin's tree walk), by the same walk. */
export function assertStorable(values: readonly unknown[]): void {
  if (containsNul(values)) throw new UnstorableTextError();
}
