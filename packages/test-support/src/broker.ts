import { randomBytes } from 'node:crypto'
import { SERVICE_ACCOUNTS } from '@orders/contracts'
import { brokerCredentials, brokerDefinitions, importBrokerDefinitions, serviceBrokerUrls, type ServiceBrokerUrls } from '@orders/platform'
import { resolveServiceUrls } from './services.ts'

export interface TestVhost {
  name: string
  /** As the tests' broker user (guest here), with every permission on the vhost: for tests that are not about permissions, and for assertions. */
  url: string
  /**
   * With `serviceUsers`: each service's own user on this vhost, with its production permissions
   * (BROKER_PERMISSIONS), as its processes connect (AMQP_URL). Named after the vhost, so
   * parallel runs never share one, and deleted with it.
   */
  serviceUrls: ServiceBrokerUrls | undefined
  drop: () => Promise<void>
}

/**
 * A RabbitMQ virtual host of its own for one test file, so its exchanges and queues never meet
 * another run's, set up as the platform's broker setup sets one up (brokerDefinitions: the
 * event exchanges; with `serviceUsers`, the services' users and permissions too), in one
 * `rabbitmqctl import_definitions` (no management plugin needed). The AMQP user of AMQP_URL
 * gets every right on it. Users are the broker's, not the vhost's: `drop()` deletes them too.
 */
export async function createTestVhost (options: { serviceUsers?: boolean } = {}): Promise<TestVhost> {
  const { amqpUrl, rabbitmqctl } = await resolveServiceUrls()
  const name = `test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`
  const base = new URL(amqpUrl)
  base.pathname = `/${encodeURIComponent(name)}`
  const url = base.toString()
  const passwords = Object.fromEntries(SERVICE_ACCOUNTS.map(account => [account, randomBytes(12).toString('hex')])) as Record<(typeof SERVICE_ACCOUNTS)[number], string>
  const serviceUrls = options.serviceUsers === true ? serviceBrokerUrls(url, { userPrefix: `${name}.`, passwords }) : undefined
  await importBrokerDefinitions(rabbitmqctl, brokerDefinitions({ vhost: name, services: serviceUrls, administrators: [{ user: brokerCredentials(url).user }] }))
  return {
    name,
    url,
    serviceUrls,
    async drop () {
      await Promise.all([
        rabbitmqctl(['delete_vhost', name]),
        ...Object.values(serviceUrls ?? {}).map(async serviceUrl => await rabbitmqctl(['delete_user', brokerCredentials(serviceUrl).user]))
      ])
    }
  }
}

/** rabbitmqctl against the tests' broker, e.g. to read queue depths. */
export async function rabbitmqctl (...args: string[]): Promise<string> {
  return await (await resolveServiceUrls()).rabbitmqctl(args)
}
