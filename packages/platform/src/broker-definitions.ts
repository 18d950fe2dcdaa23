import { BROKER_PERMISSIONS, EVENT_EXCHANGES, SERVICE_ACCOUNTS, type ServiceAccount } from '@orders/contracts'

/**
 * Least privilege in RabbitMQ (doc/security.md): every service connects as a user of its own,
 * whose permissions (BROKER_PERMISSIONS in packages/contracts) cover only its own exchanges and
 * queues. Each service's AMQP_URL names its user and password; the broker setup below turns
 * those URLs into RabbitMQ definitions (users, permissions, the event exchanges), which
 * `rabbitmqctl import_definitions` (pnpm dev, the tests), a node's `load_definitions` or the
 * management API's `POST /api/definitions` apply: they add or update, never remove.
 */

/** Each account's AMQP_URL: its own user (and password) on the platform's vhost. */
export type ServiceBrokerUrls = Record<ServiceAccount, string>

/** Where an account's broker URL is read by `pnpm broker-definitions`: USER_SERVICE_AMQP_URL, … */
export function brokerUrlVariable (account: ServiceAccount): string {
  return `${account.toUpperCase().replaceAll('-', '_')}_AMQP_URL`
}

/**
 * Each account's URL on the broker (every node of a cluster, comma-separated) and vhost of
 * `adminUrl`: its user's name (the account's, after `userPrefix`: tests give each vhost users
 * of its own) and password.
 */
export function serviceBrokerUrls (adminUrl: string, options: { userPrefix?: string, passwords: Record<ServiceAccount, string> }): ServiceBrokerUrls {
  return Object.fromEntries(SERVICE_ACCOUNTS.map(account => [account, adminUrl.split(',').map(node => {
    const url = new URL(node.trim())
    url.username = encodeURIComponent(`${options.userPrefix ?? ''}${account}`)
    url.password = encodeURIComponent(options.passwords[account])
    return url.toString()
  }).join(',')])) as ServiceBrokerUrls
}

/** The user, password and vhost of an AMQP_URL (of its first node, as the client reads it). */
export function brokerCredentials (url: string): { user: string, password: string | undefined, vhost: string } {
  const first = new URL(url.split(',')[0]!.trim())
  const path = decodeURIComponent(first.pathname.replace(/^\//, ''))
  return {
    // rabbitmq-client's defaults, when the URL names no user
    user: decodeURIComponent(first.username) || 'guest',
    password: first.username === '' ? 'guest' : (first.password === '' ? undefined : decodeURIComponent(first.password)),
    vhost: path === '' ? '/' : path
  }
}

/** The broker user a process connects as: what RabbitMQ checks a message's user-id against. */
export function brokerUser (url: string): string {
  return brokerCredentials(url).user
}

export interface BrokerDefinitions {
  vhosts: Array<{ name: string }>
  users: Array<{ name: string, password: string, tags: string }>
  permissions: Array<{ user: string, vhost: string, configure: string, write: string, read: string }>
  exchanges: Array<{ name: string, vhost: string, type: string, durable: boolean, auto_delete: false, internal: false, arguments: Record<string, never> }>
}

export interface BrokerDefinitionsOptions {
  vhost: string
  /** Each service's user and password (from its URL), with its BROKER_PERMISSIONS on the vhost. */
  services?: ServiceBrokerUrls
  /**
   * Users with every permission on the vhost. With a password the user is created (or updated)
   * as an administrator: a broker importing definitions at its first boot creates no default
   * user. Without one an existing user (guest) is only granted the vhost.
   */
  administrators?: Array<{ user: string, password?: string }>
}

/**
 * The platform's vhost with the event exchanges (declared here as well as by their publishers,
 * so a consumer binds to one whoever starts first, without configure permission on another
 * service's exchange), the services' users and their permissions.
 */
export function brokerDefinitions ({ vhost, services, administrators = [] }: BrokerDefinitionsOptions): BrokerDefinitions {
  const accounts = services === undefined ? [] : SERVICE_ACCOUNTS.map(account => {
    const credentials = brokerCredentials(services[account])
    if (credentials.vhost !== vhost) throw new Error(`${account}'s AMQP URL names the vhost ${credentials.vhost}, not ${vhost}`)
    if (credentials.password === undefined) throw new Error(`${account}'s AMQP URL has no password`)
    return { account, ...credentials, password: credentials.password }
  })
  for (const { account, user } of accounts) {
    const sharing = accounts.find(other => other.user === user && other.account !== account)
    if (sharing) throw new Error(`${account} and ${sharing.account} would share the broker user ${user}: each needs its own`)
    if (administrators.some(admin => admin.user === user)) throw new Error(`${account}'s broker user ${user} is an administrator: give it a user of its own`)
  }
  const everything = { configure: '.*', write: '.*', read: '.*' }
  return {
    vhosts: [{ name: vhost }],
    users: [
      ...administrators.flatMap(({ user, password }) => password === undefined ? [] : [{ name: user, password, tags: 'administrator' }]),
      ...accounts.map(({ user, password }) => ({ name: user, password, tags: '' }))
    ],
    permissions: [
      ...administrators.map(({ user }) => ({ user, vhost, ...everything })),
      ...accounts.map(({ account, user }) => ({ user, vhost, ...BROKER_PERMISSIONS[account] }))
    ],
    exchanges: Object.values(EVENT_EXCHANGES).map(({ exchange, type, durable }) => ({ name: exchange, vhost, type, durable, auto_delete: false, internal: false, arguments: {} }))
  }
}

/** rabbitmqctl against one broker (node), with `input` on its standard input. */
export type Rabbitmqctl = (args: string[], input?: string) => Promise<string>

/** Applies definitions with `rabbitmqctl import_definitions`, the JSON on its standard input (no file holds the passwords). */
export async function importBrokerDefinitions (rabbitmqctl: Rabbitmqctl, definitions: BrokerDefinitions): Promise<void> {
  await rabbitmqctl(['import_definitions'], JSON.stringify(definitions))
}
