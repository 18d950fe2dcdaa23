// The reply helpers and the schema keywords these plugins add to Fastify's types, kept in the
// emitted declarations so the services built against dist/ see them too (pnpm build).
/// <reference types="@fastify/sensible" preserve="true" />
/// <reference types="@fastify/swagger" preserve="true" />
import { randomUUID } from 'node:crypto'
import Fastify, { type FastifyInstance } from 'fastify'
import sensible from '@fastify/sensible'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { fastifyLoggingOptions } from './logging.ts'
import { validatorCompiler } from './validation.ts'
import { installErrorHandler } from './errors.ts'
import { healthRoutes, type ReadinessChecks } from './health.ts'
import { requireRouteGuards } from './route-guards.ts'
import { metricsPlugin } from './metrics.ts'

/** Bodies over 1 MiB are answered 413 before they are parsed. */
export const BODY_LIMIT_BYTES = 1024 * 1024

export interface ServiceInstanceOptions {
  service: string
  logLevel: string
  /** Where log lines go; stdout by default (tests pass a stream to read them). */
  logStream?: NodeJS.WritableStream
  /** A whole request, body included, must arrive within this (408 otherwise); 30 s by default. */
  requestTimeoutMs?: number
}

/**
 * A Fastify instance as every service builds it: pino logging with request ids, the
 * body limit, strict validation, typebox types. The service's app plugin is registered on it.
 */
export function createServiceInstance (options: ServiceInstanceOptions) {
  const logging = fastifyLoggingOptions(options.service, options.logLevel)
  const app = Fastify({
    ...logging,
    logger: options.logStream ? { ...(logging.logger as object), stream: options.logStream } : logging.logger,
    // Used when a request arrives without X-Request-ID (the gateway always sets one).
    genReqId: () => randomUUID(),
    bodyLimit: BODY_LIMIT_BYTES,
    // Headers and body together: a client sending a byte every few seconds no longer holds a
    // connection for ever. Node reads requestTimeout when the server is constructed (setting it
    // later, as Fastify does, is not enforced), hence `http`; it checks every second.
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    http: { requestTimeout: options.requestTimeoutMs ?? 30_000, connectionsCheckingInterval: 1_000 },
    // Behind HAProxy: the client's address comes in X-Forwarded-For.
    trustProxy: '127.0.0.1',
    return503OnClosing: true
  }).withTypeProvider<TypeBoxTypeProvider>()
  app.setValidatorCompiler(validatorCompiler)
  // GET /metrics and the HTTP metrics of every route, in every process (metrics.ts).
  void app.register(metricsPlugin)
  // Echo the request id so a client can quote it and logs can be joined across services.
  app.addHook('onSend', async (request, reply) => { void reply.header('x-request-id', request.id) })
  return app
}
export type ServiceInstance = ReturnType<typeof createServiceInstance>

export interface ServiceBasicsOptions {
  title: string
  description: string
  readiness: ReadinessChecks
  /** True once the process has begun to shut down: /healthz answers 503 (see health.ts). */
  isDraining?: () => boolean
}

/**
 * What every service's app registers first: error shape, @fastify/sensible's reply helpers,
 * OpenAPI at /docs and the health routes. Not encapsulated, so it applies to every route.
 * Every route registered after it must say who may call it (route-guards.ts).
 */
export async function registerServiceBasics (app: FastifyInstance, options: ServiceBasicsOptions): Promise<void> {
  installErrorHandler(app)
  await app.register(sensible)
  await app.register(swagger, {
    openapi: {
      info: { title: options.title, description: options.description, version: '1.0.0' },
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } }
      }
    }
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })
  await app.register(healthRoutes, { checks: options.readiness, isDraining: options.isDraining })
  requireRouteGuards(app)
}
