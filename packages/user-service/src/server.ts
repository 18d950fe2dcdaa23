/**
 * The user-service process (composition root): config, database, broker, the in-process
 * outbox relay, the HTTP app; and an orderly shutdown on SIGTERM.
 */
import '@orders/platform/tracing-autostart' // first: the SDK, when on, must be in place before pg, fastify and undici load
import { EVENT_EXCHANGES } from '@orders/contracts'
import { brokerUser, closeOnSignals, createBrokerConnection, createDatabase, createEventPublisher, createRedisClient, createServiceInstance, requireDependencies } from '@orders/platform'
import { OutboxRelay } from '@orders/outbox'
import userServiceApp from './app.ts'
import { loadUserServiceConfig } from './config.ts'
import { USERS_SCHEMA, type UsersDatabase } from './database.ts'
import { SigningKeyDecryptionError } from './signing-key-encryption.ts'

const SERVICE = 'user-service'

/** A start that cannot work (bad configuration, a KEK that does not fit the keys): said in words, exit 1. */
function refuseToStart (err: unknown): never {
  process.stderr.write(`${SERVICE}: ${(err as Error).message}\n`)
  process.exit(1)
}

let config
try {
  config = loadUserServiceConfig()
} catch (err) {
  refuseToStart(err)
}
// A database or broker that cannot be reached is named in one line, and the process exits.
await requireDependencies(SERVICE, { database: config.DATABASE_URL, broker: config.AMQP_URL })
const app = createServiceInstance({ service: SERVICE, logLevel: config.LOG_LEVEL })
const db = createDatabase<UsersDatabase>({ connectionString: config.DATABASE_URL, poolSize: config.DATABASE_POOL_SIZE, applicationName: SERVICE })
const broker = createBrokerConnection(config.AMQP_URL, SERVICE, app.log)
// Confirms make `send` resolve only once the broker has the message, which is when the relay
// may mark the row published. The exchange is (re)declared before the first publish.
const redis = createRedisClient({ url: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX, log: app.log.child({ component: 'redis' }) })
const relay = new OutboxRelay({ db, schema: USERS_SCHEMA, publisher: () => createEventPublisher(broker, EVENT_EXCHANGES.userEvents), userId: brokerUser(config.AMQP_URL), log: app.log.child({ component: 'outbox-relay' }) })

try {
  await app.register(userServiceApp, { db, broker, redis, onOutboxCommitted: () => { relay.wake() }, config })
} catch (err) {
  if (!(err instanceof SigningKeyDecryptionError)) throw err
  refuseToStart(err)
}
relay.start()

closeOnSignals(app.log, async () => {
  await app.close() // stops accepting requests and waits for those in flight
  await relay.stop() // publishes what they committed
  await broker.close()
  redis.disconnect()
  await db.destroy()
})

await app.listen({ host: config.HOST, port: config.PORT })
