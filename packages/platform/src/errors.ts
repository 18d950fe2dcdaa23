import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyInstance } from 'fastify'
import { isDatabaseUnavailable } from './database.ts'
import { DOMAIN_ERROR_STATUS, DomainError } from './domain-errors.ts'
import { fieldPlace, fieldProblems, type FieldProblem } from './validation.ts'

/**
 * One error handler for every service: the full error goes to the log; the client gets
 * Fastify's error shape, with the real message for 4xx and a generic one for 5xx. Domain
 * errors get the status of their kind (domain-errors.ts); Fastify's and @fastify/sensible's
 * HTTP errors keep their own.
 */
export function installErrorHandler (app: FastifyInstance, options: { notFoundHandler?: boolean } = {}): void {
  // Fastify's own 404 repeats the URL, query string included (a token in ?access_token=), in
  // the answer and the log; this one names nothing the client sent. An app that answers unknown
  // paths itself (the web app: index.html) sets its own; Fastify allows one.
  if (options.notFoundHandler !== false) {
    app.setNotFoundHandler((request, reply) => {
      request.log.info({ statusCode: 404 }, 'no such route')
      return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: 'There is no such route; the API is described at /docs' })
    })
  }
  app.setErrorHandler((error: FastifyError, request, reply) => {
    let statusCode = error.statusCode ?? 500
    let message = error.message
    let errors: FieldProblem[] | undefined
    if (error instanceof DomainError) {
      statusCode = DOMAIN_ERROR_STATUS[error.kind]
    } else if (error.validation) {
      statusCode = 400
      // Every field in error, in plain words: "items[0]: \"sku\" may contain letters, …".
      errors = fieldProblems(error.validation as Parameters<typeof fieldProblems>[0])
      message = errors.map(e => (fieldPlace(e.field) === '' ? e.message : `${fieldPlace(e.field)}: ${e.message}`)).join('; ')
    } else if (isDatabaseUnavailable(error)) {
      statusCode = 503
      message = 'The database is unavailable; nothing was changed. Try again shortly.'
    }
    if (statusCode >= 500) {
      request.log.error({ err: error }, 'request failed')
      if (statusCode !== 503) message = 'Internal Server Error'
      if (statusCode === 503) void reply.header('retry-after', '1')
    } else {
      request.log.info({ statusCode, reason: message }, 'request rejected')
    }
    return reply.code(statusCode).send({ statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message, ...(errors && { errors }) })
  })
}
