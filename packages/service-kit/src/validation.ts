// Request validation against the contracts' TypeBox schemas, and its errors as `field: problem`.
import type { FastifySchemaCompiler } from 'fastify';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';

/** The subset of a TypeBox (ajv-compatible) validation error this module reads. */
export interface SchemaError {
  keyword: string;
  schemaPath: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

export interface ErrorDetail {
  field: string;
  message: string;
}

const DECIMAL = /^(0|[1-9]\d{0,14})$/;

/**
 * URL parts arrive as strings: only canonical decimal integers and true/false become numbers and booleans,
 * so `limit=0x10`, `limit=1.5` or `limit=` are refused instead of silently read as 16, 1 or 0.
 */
function convertUrlPart(schema: TSchema, value: unknown): unknown {
  const properties = (schema as { properties?: Record<string, { type?: unknown }> }).properties;
  if (!properties || typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const [key, raw] of Object.entries(out)) {
    const type = properties[key]?.type;
    if (typeof raw !== 'string') continue;
    if ((type === 'integer' || type === 'number') && DECIMAL.test(raw)) out[key] = Number(raw);
    else if (type === 'boolean' && (raw === 'true' || raw === 'false')) out[key] = raw === 'true';
  }
  return out;
}

/**
 * Bodies must already carry the right types: no coercion, so `null` never becomes `""` and a
 * string never becomes a one-item array (what ajv's coerceTypes, Fastify's default, would do).
 * TypeBox's own Value.Convert is not used for URL parts either: it truncates `1.5` to 1.
 */
export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = Compile(schema);
  return (value: unknown) => {
    const input = httpPart === 'body' ? value : convertUrlPart(schema, value);
    if (check.Check(input)) return { value: input };
    return { error: check.Errors(input) as unknown as Error };
  };
};

/** `/redirect_uris/0` -> `redirect_uris[0]`: the names callers wrote, not JSON pointers. */
function fieldName(pointer: string, context: string): string {
  const parts = pointer.split('/').slice(1);
  if (parts.length === 0) return context;
  return parts
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

/** JSON pointer of property `name` under `parent` (RFC 6901 escaping). */
const child = (parent: string, name: string) => `${parent}/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`;

/** Explains a failed union by its branches: the allowed constants, the allowed types, or the constraint that failed. */
function unionProblem(branches: SchemaError[]): string {
  if (branches.length > 0 && branches.every((e) => e.keyword === 'const')) {
    return `must be one of ${branches.map((e) => JSON.stringify(e.params.allowedValue)).join(', ')}`;
  }
  const constraint = branches.find((e) => e.keyword !== 'type' && e.keyword !== 'const');
  if (constraint?.message) return constraint.message;
  const types = branches.filter((e) => e.keyword === 'type').map((e) => String(e.params.type));
  return types.length > 0 ? `must be ${types.join(' or ')}` : 'is invalid';
}

/** One detail per problem, in the caller's vocabulary. */
export function validationDetails(errors: SchemaError[], context: string): ErrorDetail[] {
  const inUnion = (e: SchemaError) => errors.some((u) => u.keyword === 'anyOf' && e.schemaPath.startsWith(`${u.schemaPath}/anyOf/`));
  const details: ErrorDetail[] = [];
  for (const e of errors) {
    // Reported once, by name, through the additionalProperties error of the object.
    if (e.keyword === 'boolean' && e.schemaPath.endsWith('/additionalProperties')) continue;
    if (inUnion(e)) continue;
    if (e.keyword === 'required') {
      for (const name of (e.params.requiredProperties ?? [e.params.missingProperty]) as string[]) {
        details.push({ field: fieldName(child(e.instancePath, name), context), message: 'is required' });
      }
    } else if (e.keyword === 'additionalProperties') {
      for (const name of (e.params.additionalProperties ?? [e.params.additionalProperty]) as string[]) {
        details.push({ field: fieldName(child(e.instancePath, name), context), message: 'is not a known field' });
      }
    } else if (e.keyword === 'anyOf') {
      const branches = errors.filter((b) => b.schemaPath.startsWith(`${e.schemaPath}/anyOf/`));
      details.push({ field: fieldName(e.instancePath, context), message: unionProblem(branches) });
    } else {
      details.push({ field: fieldName(e.instancePath, context), message: e.message ?? 'is invalid' });
    }
  }
  const unique = new Map(details.map((d) => [`${d.field}\u0000${d.message}`, d]));
  return [...unique.values()];
}
