import type { FastifyInstance } from 'fastify'
import type { Kysely } from 'kysely'
import type { Connection } from 'rabbitmq-client'
import { pingDatabase, registerServiceBasics } from '@orders/platform'

/** The processor serves no API: only /healthz, /readyz (broker connected, database answers) and /docs. */
export default async function orderProcessorApp (app: FastifyInstance, options: { connection: Connection, db: Kysely<any> }): Promise<void> {
  await registerServiceBasics(app, {
    title: 'order-processor',
    description: 'Processes new orders from RabbitMQ and reports their status to the order-service. Health endpoints only.',
    readiness: {
      broker: () => { if (!options.connection.ready) throw new Error('not connected to RabbitMQ') },
      database: async () => { await pingDatabase(options.db) }
    }
  })
}
