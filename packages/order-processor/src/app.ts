import type { FastifyInstance } from 'fastify'
import type { Connection } from 'rabbitmq-client'
import { registerServiceBasics } from '@orders/platform'

/** The processor serves no API: only /healthz, /readyz (broker connected) and /docs. */
export default async function orderProcessorApp (app: FastifyInstance, options: { connection: Connection }): Promise<void> {
  await registerServiceBasics(app, {
    title: 'order-processor',
    description: 'Processes new orders from RabbitMQ and reports their status to the order-service. Health endpoints only.',
    readiness: {
      broker: () => { if (!options.connection.ready) throw new Error('not connected to RabbitMQ') }
    }
  })
}
