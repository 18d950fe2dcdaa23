import type { FastifyInstance } from 'fastify'
import type { Kysely } from 'kysely'
import type { Connection } from 'rabbitmq-client'
import { databaseAndBrokerChecks, registerServiceBasics } from '@orders/platform'

export interface OrderProcessorAppOptions {
  connection: Connection
  db: Kysely<any>
  /** True once the work queue is declared, bound to `orders.events` and consumed. */
  isConsuming: () => boolean
}

/**
 * The processor serves no API: only /healthz, /readyz and /docs. It is ready once it consumes
 * its work queue: the queue exists then, so an `order_created` published from then on is kept
 * even while no processor runs (the launcher opens the gateway only after every /readyz is 200).
 */
export default async function orderProcessorApp (app: FastifyInstance, options: OrderProcessorAppOptions): Promise<void> {
  await registerServiceBasics(app, {
    title: 'order-processor',
    description: 'Processes new orders from RabbitMQ and reports their status to the order-service. Health endpoints only.',
    readiness: {
      ...databaseAndBrokerChecks(options.db, options.connection),
      work_queue: () => { if (!options.isConsuming()) throw new Error('not consuming the work queue yet') }
    }
  })
}
