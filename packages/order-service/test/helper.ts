import type { Test } from 'tap'
import { Connection } from 'rabbitmq-client'
import { createServiceInstance } from '@orders/platform'
import { createTestDatabase, resolveServiceUrls, startTestTokenIssuer } from '@orders/test-support'
import orderServiceApp from '../src/app.ts'
import { OrderNotificationHub } from '../src/notifications/hub.ts'

/**
 * The order-service app on a database of its own, connected as the order-service's own role,
 * verifying tokens of a test issuer's JWKS. `db` is the admin's, for assertions. Everything is
 * closed and dropped when the test ends.
 */
export async function buildOrderService (t: Test, options: { gracePeriodMs?: number, defaultCurrency?: string } = {}) {
  const database = await createTestDatabase()
  const issuer = await startTestTokenIssuer()
  const broker = new Connection((await resolveServiceUrls()).amqpUrl)
  let outboxCommits = 0
  const app = createServiceInstance({ service: 'order-service-test', logLevel: process.env.TEST_LOG_LEVEL ?? 'silent' })
  await app.register(orderServiceApp, {
    db: database.as('order-service'),
    broker,
    userServiceUrl: issuer.url,
    onOutboxCommitted: () => { outboxCommits++ },
    hub: new OrderNotificationHub({ log: app.log }),
    ...options
  })
  await app.ready()
  t.teardown(async () => {
    await app.close()
    await broker.close()
    await issuer.close()
    await database.drop()
  })
  return { app, db: database.db, issuer, get outboxCommits () { return outboxCommits } }
}

export const sampleItems = [
  { sku: 'BOOK-1', quantity: 2, unit_price: 1250 },
  { sku: 'pen.blue_2', quantity: 1, unit_price: 99 }
]
