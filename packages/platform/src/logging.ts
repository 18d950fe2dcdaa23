import { LogController, type FastifyBaseLogger, type FastifyServerOptions } from 'fastify'
import type { LoggerOptions } from 'pino'
import { traceLogFields } from './tracing.ts'

/** What the shared plumbing logs with: a Fastify instance's logger or any pino logger. */
export type Logger = FastifyBaseLogger

/** Never let a credential reach a log line. */
const redact = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.body.password',
  'req.body.client_secret',
  '*.password',
  '*.client_secret',
  '*.access_token',
  '*.refresh_token'
]

export function loggerOptions (service: string, level: string): LoggerOptions {
  // trace_id and span_id of the active span (when tracing is on): from a log line to its trace.
  return { level, name: service, redact, mixin: traceLogFields }
}

/**
 * The URL with every query value hidden. WebSocket clients send their token as `?access_token=`,
 * and a name can be spelled in many ways (`%61ccess_token`, `access%5Ftoken`) that Fastify's
 * query parser decodes to the same thing, so no value is logged, whatever its name.
 */
export function redactUrl (url: string): string {
  const queryStart = url.indexOf('?')
  if (queryStart === -1) return url
  const query = url.slice(queryStart + 1).split('&').map(pair => {
    const nameEnd = pair.indexOf('=')
    return nameEnd === -1 ? '[Redacted]' : `${pair.slice(0, nameEnd)}=[Redacted]`
  })
  return `${url.slice(0, queryStart)}?${query.join('&')}`
}

/** Request logging for Fastify: method and url without secrets, the request id under one label. */
export function fastifyLoggingOptions (service: string, level: string): Pick<FastifyServerOptions, 'requestIdHeader' | 'logController'> & { logger: FastifyServerOptions['logger'] } {
  return {
    logger: {
      ...loggerOptions(service, level),
      serializers: {
        req (request: { method: string, url: string, id: string }) {
          return { method: request.method, url: redactUrl(request.url) }
        }
      }
    },
    // The gateway sets X-Request-ID when a client did not; it travels on to AMQP headers.
    requestIdHeader: 'x-request-id',
    // The same label as the processor's and relay's log lines, so one search finds them all.
    logController: new LogController({ requestIdLogLabel: 'request_id' })
  }
}
