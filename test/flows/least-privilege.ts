/**
 * Least privilege as the running system has it (doc/security.md): every process is connected to
 * PostgreSQL as its own service's role and to RabbitMQ as its own service's user, never as the
 * admins the system was set up with.
 */
import type { Test } from 'tap'
import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import type { ServiceAccount } from '@orders/contracts'
import { brokerCredentials, databaseCredentials } from '@orders/platform'
import { placeOrder, rabbitmqctl } from '@orders/test-support'
import { registerAndLogin, waitForOrderStatus, type TestSystem } from '../system-helper.ts'

/** Each process's application name (PostgreSQL) and connection name (RabbitMQ), and its account. */
const PROCESSES: Record<string, ServiceAccount> = {
  'user-service': 'user-service',
  'order-service-1': 'order-service',
  'order-service-2': 'order-service',
  'outbox-relay': 'order-service',
  'order-processor': 'order-processor'
}

export async function leastPrivilegeFlow (t: Test, { system, db, amqpUrl, gateway }: TestSystem) {
  // An order through every process, so that each holds its connections now.
  const { token } = await registerAndLogin(gateway, `least-privilege-${randomUUID()}@example.com`)
  const placed = await placeOrder(gateway, token, [{ sku: 'ROLE-1', quantity: 1, unit_price: 100 }])
  await waitForOrderStatus(gateway, token, placed.body.id, ['completed'])

  t.test('each process is connected to PostgreSQL as its service\'s own role', async t => {
    const { rows } = await sql<{ app: string, role: string }>`
      select distinct application_name as app, usename as role from pg_stat_activity where datname = current_database()`.execute(db)
    const seen = rows.filter(row => row.app in PROCESSES)
    t.same(seen.filter(row => row.role !== databaseCredentials(system.serviceUrls.database[PROCESSES[row.app]!]).role), [], 'none as another role, nor as the admin')
    t.same(new Set(seen.map(row => PROCESSES[row.app])), new Set(['user-service', 'order-service', 'order-processor']), 'every service is connected')
  })

  t.test('each process is connected to RabbitMQ as its service\'s own user', async t => {
    const { vhost } = brokerCredentials(amqpUrl)
    const connections = (JSON.parse(await rabbitmqctl('list_connections', 'vhost', 'user', 'client_properties', '--formatter', 'json')) as Array<{ vhost: string, user: string, client_properties: unknown }>)
      .filter(connection => connection.vhost === vhost)
      .map(connection => ({ user: connection.user, name: /"connection_name","longstr","([^"]+)"/.exec(JSON.stringify(connection.client_properties))?.[1] ?? '' }))
    const ours = connections.filter(connection => connection.name in PROCESSES)
    t.same(ours.filter(connection => connection.user !== brokerCredentials(system.serviceUrls.broker[PROCESSES[connection.name]!]).user), [], 'none as another user, nor as guest')
    t.same(new Set(ours.map(connection => connection.name)), new Set(Object.keys(PROCESSES)), 'every process is connected')
  })
}
