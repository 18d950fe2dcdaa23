/**
 * `pnpm broker-definitions print|post` — the broker side of least privilege (doc/security.md)
 * for a RabbitMQ the launcher does not set up itself (compose.yaml, a production broker without
 * the Kubernetes operator): each service's user with its permissions, and the event exchanges,
 * from the services' own AMQP URLs, as RabbitMQ definitions. The same definitions `pnpm dev`
 * imports (packages/platform/src/broker-definitions.ts).
 * Exit status: 0 done, 1 refused or failed, 2 bad usage.
 */
import { readCommandLine } from '@orders/platform/command-line'

const USAGE = `usage: pnpm broker-definitions print
       pnpm broker-definitions post <management URL>

  print   write the definitions (JSON) to standard output: for \`rabbitmqctl import_definitions\`,
          which reads them from its standard input, or a node's load_definitions
  post    send them to RabbitMQ's management API (POST <URL>/api/definitions) as AMQP_URL's
          user, an administrator (compose.yaml's broker-setup)

Reads USER_SERVICE_AMQP_URL, ORDER_SERVICE_AMQP_URL and ORDER_PROCESSOR_AMQP_URL, each service's
own user and password on the platform's vhost (what its processes get as AMQP_URL), and for
post AMQP_URL. The definitions add or update users, permissions and exchanges; they remove nothing.
Exit status: 0 done, 1 refused or failed, 2 bad usage.`

const { command, args } = readCommandLine(USAGE)
if (!((command === 'print' && args.length === 0) || (command === 'post' && args.length === 1))) {
  console.error(USAGE)
  process.exit(2)
}

const { Type } = await import('@sinclair/typebox')
const { SERVICE_ACCOUNTS } = await import('@orders/contracts')
const { brokerCredentials, brokerDefinitions, brokerUrlVariable, loadConfig } = await import('@orders/platform')

let definitions
let config
try {
  config = loadConfig(Type.Object({
    AMQP_URL: Type.Optional(Type.String()),
    ...Object.fromEntries(SERVICE_ACCOUNTS.map(account => [brokerUrlVariable(account), Type.String({ pattern: '^amqps?://' })]))
  })) as Record<string, string | undefined>
  const services = Object.fromEntries(SERVICE_ACCOUNTS.map(account => [account, config![brokerUrlVariable(account)]!])) as Record<(typeof SERVICE_ACCOUNTS)[number], string>
  definitions = brokerDefinitions({ vhost: brokerCredentials(services['user-service']).vhost, services })
  if (command === 'post' && config.AMQP_URL === undefined) throw new Error('post needs AMQP_URL: an administrator of the broker')
} catch (err) {
  console.error((err as Error).message)
  process.exit(2)
}

if (command === 'print') {
  console.log(JSON.stringify(definitions, null, 2))
} else {
  const { user, password } = brokerCredentials(config.AMQP_URL!)
  const target = `${args[0]!.replace(/\/+$/, '')}/api/definitions`
  try {
    const response = await fetch(target, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${user}:${password ?? ''}`).toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify(definitions),
      signal: AbortSignal.timeout(30_000)
    })
    if (!response.ok) throw new Error(`${response.status} ${(await response.text()).slice(0, 500)}`)
    console.log(`broker users ${definitions.users.map(u => u.name).join(', ')} and the event exchanges set up on vhost ${definitions.vhosts[0]?.name ?? '/'}`)
  } catch (err) {
    console.error(`cannot post the definitions to ${target}: ${(err as Error).message}`)
    process.exitCode = 1
  }
}
