import { randomBytes } from 'node:crypto'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { resolveServiceUrls } from './services.ts'

const run = promisify(execFile)

export interface TestVhost {
  name: string
  url: string
  drop: () => Promise<void>
}

/**
 * A RabbitMQ virtual host of its own for one test file, so its exchanges and queues never
 * meet another run's. Created and deleted with rabbitmqctl (the local broker's CLI);
 * the AMQP user of AMQP_URL gets full rights on it.
 */
export async function createTestVhost (): Promise<TestVhost> {
  const { amqpUrl } = await resolveServiceUrls()
  const name = `test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`
  const base = new URL(amqpUrl)
  const user = decodeURIComponent(base.username || 'guest')
  await rabbitmqctl('add_vhost', name)
  await rabbitmqctl('set_permissions', '-p', name, user, '.*', '.*', '.*')
  base.pathname = `/${encodeURIComponent(name)}`
  return {
    name,
    url: base.toString(),
    async drop () { await rabbitmqctl('delete_vhost', name) }
  }
}

export async function rabbitmqctl (...args: string[]): Promise<string> {
  const { stdout } = await run('rabbitmqctl', ['-q', ...args], { timeout: 30_000 })
  return stdout
}
