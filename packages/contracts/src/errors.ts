import { Type, type Static } from '@sinclair/typebox'

/**
 * The one error shape of every service: Fastify's own (`statusCode`, `error`, `message`),
 * so framework errors (validation, 413, 404 route) and ours look the same to clients.
 */
export const ErrorResponse = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String(),
  message: Type.String(),
  errors: Type.Optional(Type.Array(Type.Object({
    field: Type.String({ description: 'Where, in the request: "items.0.sku", "currency", "status"' }),
    message: Type.String({ description: 'In plain words, e.g. "sku" may contain letters, digits, \'.\', \'_\' and \'-\'' })
  }), { description: 'A 400 for invalid input: one entry per field in error, all of them at once' }))
}, { description: 'Every 4xx and 5xx answer' })
export type ErrorResponse = Static<typeof ErrorResponse>

/** A route's `response` entries for its error codes, all in the one error shape. */
export function errorResponses<const Code extends number> (...codes: Code[]): Record<Code, typeof ErrorResponse> {
  return Object.fromEntries(codes.map(code => [code, ErrorResponse])) as Record<Code, typeof ErrorResponse>
}

/** What every route that reads a JSON body can answer besides its own errors. */
export const BODY_ERRORS = [400, 413, 415] as const
