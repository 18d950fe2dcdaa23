import { Type, type Static } from '@sinclair/typebox'

/**
 * The one error shape of every service: Fastify's own (`statusCode`, `error`, `message`),
 * so framework errors (validation, 413, 404 route) and ours look the same to clients.
 */
export const ErrorResponse = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String(),
  message: Type.String()
}, { description: 'Every 4xx and 5xx answer' })
export type ErrorResponse = Static<typeof ErrorResponse>
