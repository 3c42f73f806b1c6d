// Request parameters as Fastify's parsers hand them over (RFC 6749 §3.1, §3.2: each at most once, so an
// array is kept for the handler to refuse as invalid_request). The only definitions in contracts.
import { Type } from 'typebox';

/** Longest value accepted in a form parameter of the token, introspection and revocation endpoints. */
export const MAX_PARAM_LENGTH = 4096;

/** A form parameter: once, or repeated (an array), bounded. */
export const Param = Type.Union([Type.String({ maxLength: MAX_PARAM_LENGTH }), Type.Array(Type.String({ maxLength: MAX_PARAM_LENGTH }))]);

/**
 * A query parameter of the authorization request: no bound in the schema, so the handler, not the
 * validator, decides between the error page and an error redirect (an oversized client_id is an
 * unknown partner, tests/security inputs.test.ts "oversized client_id at /oauth/authorize").
 */
export const LooseParam = Type.Union([Type.String(), Type.Array(Type.String())]);
