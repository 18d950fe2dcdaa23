/**
 * The order-service process (composition root): config, database, broker, the in-process
 * outbox relay, the HTTP app; and an orderly shutdown on SIGTERM.
 */
import '@orders/platform/tracing-autostart' // first: the SDK, when on, must be in place before pg, fastify and undici load
import { brokerUser, createBrokerConnection, createDatabase, createEventPublisher, createServiceInstance, closeOnSignals, createRedisClient, loadConfig, requireDependencies } from '@orders/platform'
import { OutboxRelay } from '@orders/outbox'
import orderServiceApp from './app.ts'
import { OrderNotificationHub } from './notifications/hub.ts'
import { consumeStatusEvents } from './notifications/status-events-consumer.ts'
import { OrderServiceConfig } from './config.ts'
import { ORDERS_SCHEMA, type OrdersDatabase } from './database.ts'

const config = loadConfig(OrderServiceConfig)
// A database or broker that cannot be reached is named in one line, and the process exits.
await requireDependencies(config.INSTANCE_ID, { database: config.DATABASE_URL, broker: config.AMQP_URL })
const app = createServiceInstance({ service: config.INSTANCE_ID, logLevel: config.LOG_LEVEL })
const db = createDatabase<OrdersDatabase>({ connectionString: config.DATABASE_URL, poolSize: config.DATABASE_POOL_SIZE, applicationName: config.INSTANCE_ID })
const broker = createBrokerConnection(config.AMQP_URL, config.INSTANCE_ID, app.log)
// Publishes this replica's events right after each commit; the standalone relay and the
// other replicas' polls pick up whatever a crash leaves behind.
const relay = new OutboxRelay({ db, schema: ORDERS_SCHEMA, publisher: () => createEventPublisher(broker), userId: brokerUser(config.AMQP_URL), log: app.log.child({ component: 'outbox-relay' }), pollIntervalMs: config.RELAY_POLL_INTERVAL_MS })

const redis = createRedisClient({ url: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX, log: app.log.child({ component: 'redis' }) })
const hub = new OrderNotificationHub({ log: app.log.child({ component: 'notifications' }) })
// Status events count only when the order-service published them: RabbitMQ vouches for the user-id.
const statusEvents = consumeStatusEvents({ broker, hub, instanceId: config.INSTANCE_ID, trustedPublisher: brokerUser(config.AMQP_URL), log: app.log })

let draining = false
await app.register(orderServiceApp, {
  db, broker, userServiceUrl: config.USER_SERVICE_URL, onOutboxCommitted: () => { relay.wake() }, hub, statusBindings: statusEvents.bindings, isDraining: () => draining,
  redis, webSocket: { allowedOrigins: config.ALLOWED_ORIGINS.split(',').map(o => o.trim()).filter(o => o !== ''), maxSocketsPerUser: config.MAX_SOCKETS_PER_USER },
  defaultCurrency: config.DEFAULT_CURRENCY, gracePeriodMs: config.ORDER_GRACE_PERIOD_MS
})
relay.start()

closeOnSignals(app.log, async () => {
  // Drain: fail health checks until the gateway has taken this replica out of rotation, so no
  // new request is refused; requests still arriving meanwhile are served normally.
  draining = true
  await new Promise(resolve => setTimeout(resolve, config.SHUTDOWN_DRAIN_MS))
  hub.closeAll() // clients reconnect through the gateway to another replica
  await app.close() // stops accepting requests and waits for those in flight
  await statusEvents.close()
  await relay.stop() // publishes what they committed
  await broker.close()
  redis.disconnect()
  await db.destroy()
})

await app.listen({ host: config.HOST, port: config.PORT })
