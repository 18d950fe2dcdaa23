import { randomBytes } from 'node:crypto'
import { resolveServiceUrls } from './services.ts'

export interface TestVhost {
  name: string
  url: string
  drop: () => Promise<void>
}

/**
 * A RabbitMQ virtual host of its own for one test file, so its exchanges and queues never
 * meet another run's. Created and deleted with rabbitmqctl (no management plugin needed);
 * the AMQP user of AMQP_URL gets full rights on it.
 */
export async function createTestVhost (): Promise<TestVhost> {
  const { amqpUrl, rabbitmqctl } = await resolveServiceUrls()
  const name = `test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`
  const base = new URL(amqpUrl)
  const user = decodeURIComponent(base.username || 'guest')
  await rabbitmqctl(['add_vhost', name])
  await rabbitmqctl(['set_permissions', '-p', name, user, '.*', '.*', '.*'])
  base.pathname = `/${encodeURIComponent(name)}`
  return {
    name,
    url: base.toString(),
    async drop () { await rabbitmqctl(['delete_vhost', name]) }
  }
}

/** rabbitmqctl against the tests' broker, e.g. to read queue depths. */
export async function rabbitmqctl (...args: string[]): Promise<string> {
  return await (await resolveServiceUrls()).rabbitmqctl(args)
}
