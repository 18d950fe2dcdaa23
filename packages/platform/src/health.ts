import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { Kysely } from 'kysely'
import { pingDatabase } from './database.ts'

export type ReadinessChecks = Record<string, () => Promise<void> | void>

/** The checks of a service that needs its database and its broker (every one of ours). */
export function databaseAndBrokerChecks (db: Kysely<any>, broker: { readonly ready: boolean }): ReadinessChecks {
  return {
    database: async () => { await pingDatabase(db) },
    broker: () => { if (!broker.ready) throw new Error('not connected to RabbitMQ') }
  }
}

const CHECK_TIMEOUT_MS = 2_000

/**
 * `/healthz`: the process is alive and takes requests (503 while it drains before a shutdown,
 * so the gateway's health check takes it out of rotation first). `/readyz`: every dependency
 * it needs answers. Both are public (no token): the gateway and orchestrators call them.
 */
export async function healthRoutes (app: FastifyInstance, opts: { checks: ReadinessChecks, isDraining?: () => boolean }): Promise<void> {
  app.get('/healthz', {
    schema: {
      tags: ['health'],
      summary: 'The process is alive (public)',
      response: { 200: Type.Object({ status: Type.Literal('ok') }), 503: Type.Object({ status: Type.Literal('draining') }) }
    },
    config: { public: true },
    logLevel: 'warn'
  }, async (_request, reply) => {
    if (opts.isDraining?.()) return await reply.code(503).send({ status: 'draining' as const })
    return { status: 'ok' as const }
  })

  app.get('/readyz', {
    schema: {
      tags: ['health'],
      summary: 'Database and broker reachable (public)',
      response: {
        200: Type.Object({ status: Type.String(), checks: Type.Record(Type.String(), Type.String()) }),
        503: Type.Object({ status: Type.String(), checks: Type.Record(Type.String(), Type.String()) })
      }
    },
    config: { public: true },
    logLevel: 'warn'
  }, async (_request, reply) => {
    const results: Record<string, string> = {}
    await Promise.all(Object.entries(opts.checks).map(async ([name, check]) => {
      try {
        await withTimeout(Promise.resolve(check()), CHECK_TIMEOUT_MS)
        results[name] = 'up'
      } catch (err) {
        results[name] = `down: ${(err as Error).message}`
      }
    }))
    const ready = Object.values(results).every(r => r === 'up')
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks: results })
  })
}

async function withTimeout<T> (promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms) })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}
