/**
 * The standalone outbox relay process for the `orders` schema. The replicas publish their
 * own events right after commit; this process polls, so rows whose replica died between
 * commit and publish still go out. Its port serves only /healthz, /readyz and /docs.
 */
import '@orders/platform/tracing-autostart' // first: the SDK, when on, must be in place before pg, fastify and undici load
import { brokerUser, createBrokerConnection, createDatabase, createEventPublisher, createServiceInstance, closeOnSignals, loadConfig, databaseAndBrokerChecks, registerServiceBasics, requireDependencies } from '@orders/platform'
import { OutboxRelay } from '@orders/outbox'
import { RelayConfig } from './config.ts'
import { ORDERS_SCHEMA, type OrdersDatabase } from './database.ts'

const config = loadConfig(RelayConfig)
await requireDependencies('outbox-relay', { database: config.DATABASE_URL, broker: config.AMQP_URL })
const app = createServiceInstance({ service: 'outbox-relay', logLevel: config.LOG_LEVEL })
const db = createDatabase<OrdersDatabase>({ connectionString: config.DATABASE_URL, poolSize: 2, applicationName: 'outbox-relay' })
const broker = createBrokerConnection(config.AMQP_URL, 'outbox-relay', app.log)
const relay = new OutboxRelay({ db, schema: ORDERS_SCHEMA, publisher: () => createEventPublisher(broker), userId: brokerUser(config.AMQP_URL), log: app.log, pollIntervalMs: config.RELAY_POLL_INTERVAL_MS })

await app.register(async instance => {
  await registerServiceBasics(instance, {
    title: 'outbox-relay',
    description: 'Publishes the orders outbox to RabbitMQ. Health endpoints only.',
    readiness: databaseAndBrokerChecks(db, broker)
  })
})
relay.start()

closeOnSignals(app.log, async () => {
  await relay.stop()
  await app.close()
  await broker.close()
  await db.destroy()
})

await app.listen({ host: config.HOST, port: config.PORT })
