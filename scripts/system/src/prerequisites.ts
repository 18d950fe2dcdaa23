/**
 * What must hold before anything starts: free ports, HAProxy installed, the database migrated
 * with each service's role, the broker's service users set up. Nothing is installed here:
 * .ci/run is the one place that installs packages; a missing one stops the start with the
 * command to run.
 */
import { accessSync, constants as fsConstants } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { brokerCredentials, brokerDefinitions, importBrokerDefinitions, migrateDatabase, type Rabbitmqctl, type ServiceBrokerUrls, type ServiceDatabaseUrls } from '@orders/platform'
import type { LogLine } from './child.ts'
import { runCommand } from './ha/waiting.ts'
import { GATEWAY, PORTS, REPO_ROOT, SERVICES, type SystemPorts } from './topology.ts'

const MIGRATIONS_DIR = path.join(REPO_ROOT, 'migrations')

export const INSTALL_HAPROXY = 'apt-get install -y haproxy'

/** Ports nobody listens on right now (the OS picks them; all distinct). */
export async function findFreePorts (count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, async () => await new Promise<net.Server>((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve(server))
  })))
  const ports = servers.map(server => (server.address() as net.AddressInfo).port)
  await Promise.all(servers.map(async server => await new Promise(resolve => server.close(resolve))))
  return ports
}

/** A full set of free ports, so a test's system never meets `pnpm dev` or another test's. */
export async function freeSystemPorts (): Promise<SystemPorts> {
  const free = await findFreePorts(PORTS.length)
  return Object.fromEntries(PORTS.map((port, i) => [port.key, free[i]])) as unknown as SystemPorts
}

/** Names each busy port by its process and variable, e.g. "8080 (gateway, GATEWAY_PORT)". */
export async function assertPortsFree (ports: SystemPorts): Promise<void> {
  const owners = new Map<keyof SystemPorts, string>([
    ...SERVICES.map(s => [s.port.key, s.name] as const),
    [GATEWAY.port.key, 'gateway'],
    [GATEWAY.stats.port.key, 'HAProxy status page']
  ])
  const busy: string[] = []
  for (const port of PORTS) {
    if (!await canListen(ports[port.key])) busy.push(`${ports[port.key]} (${owners.get(port.key)} (${port.env}))`)
  }
  if (busy.length > 0) {
    throw new Error(`ports already in use: ${busy.join(', ')}. Is another \`pnpm dev\` running? Stop it, or choose other ports.`)
  }
}

async function canListen (port: number): Promise<boolean> {
  return await new Promise(resolve => {
    const server = net.createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

/** The haproxy executable, or an error with the command that installs it. */
export function findHaproxy (): string {
  const found = findExecutable('haproxy')
  if (found) return found
  throw new Error(`HAProxy (the gateway) is not installed. Install it (as root) with: ${INSTALL_HAPROXY}`)
}

function findExecutable (name: string): string | undefined {
  // sbin directories are not on every user's PATH, and Debian installs haproxy in /usr/sbin.
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin']
  for (const dir of dirs.filter(Boolean)) {
    const candidate = path.join(dir, name)
    try {
      accessSync(candidate, fsConstants.X_OK)
      return candidate
    } catch {}
  }
  return undefined
}

/**
 * The migrate step (platform's migrateDatabase): the database if missing, each service's role
 * from its own URL, every pending migration, each schema given to its role.
 */
export async function migrate (databaseUrl: string, serviceUrls: ServiceDatabaseUrls, log: LogLine): Promise<void> {
  const report = await migrateDatabase({ adminUrl: databaseUrl, serviceUrls, migrationsDir: MIGRATIONS_DIR, applicationName: 'system-migrate' })
  if (report.createdDatabase) log('system', `created the database ${new URL(databaseUrl).pathname.slice(1)}`)
  for (const { account, role, created } of report.roles) if (created) log('system', `created the database role ${role} (${account})`)
  for (const { schema, results } of report.schemas) {
    for (const result of results) log('system', `migration ${schema}/${result.migrationName} applied`)
  }
}

/** The broker setup: the services' users (their passwords from their URLs), permissions and the event exchanges, on amqpUrl's vhost. */
export async function setUpBroker (amqpUrl: string, serviceUrls: ServiceBrokerUrls, rabbitmqctl: Rabbitmqctl, log: LogLine): Promise<void> {
  const { vhost } = brokerCredentials(amqpUrl)
  const definitions = brokerDefinitions({ vhost, services: serviceUrls })
  await importBrokerDefinitions(rabbitmqctl, definitions)
  log('system', `broker users ${definitions.users.map(user => user.name).join(', ')} set up on vhost ${vhost}`)
}

/** rabbitmqctl of this machine's own RabbitMQ node (as root, or as the rabbitmq user). */
export const localRabbitmqctl: Rabbitmqctl = async (args, input) => await runCommand('rabbitmqctl', ['-q', ...args], { input, timeoutMs: 30_000 })
