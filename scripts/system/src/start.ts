/**
 * startSystem: the whole platform as local processes, as the table in topology.ts describes
 * it. `pnpm dev` and the end-to-end tests both start it here, so a test runs exactly what a
 * developer runs. Order: migrations; the services; HAProxy once they are ready. Stop: every
 * process at once, SIGTERM then SIGKILL after 10 s; the watchdog covers a launcher that dies.
 */
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { SERVICE_ACCOUNTS, type ServiceAccount } from '@orders/contracts'
import { reachBroker, reachDatabase, serviceBrokerUrls, serviceDatabaseUrls, type Rabbitmqctl, type ServiceBrokerUrls, type ServiceDatabaseUrls } from '@orders/platform'
import { ManagedChild, type LogLine, type ManagedProcess, type ProcessSpec } from './child.ts'
import { createPrefixedWriter } from './log-writer.ts'
import { assertPortsFree, findHaproxy, migrate, setUpBroker } from './prerequisites.ts'
import { probeGateway, probeGatewayServers, probeReadyz, waitUntilAllReady } from './readiness.ts'
import {
  CHECKED_GATEWAY_SERVERS, DEFAULT_ENTRY_POINTS, DEFAULT_PORTS, GATEWAY, GATEWAY_ADDRESSES, PROCESSOR_CLIENT_ID, REPO_ROOT, SERVICES,
  type ProcessName, type ServiceEntry, type ServiceEnvName, type ServiceName, type SystemPorts
} from './topology.ts'
import { startWatchdog } from './watchdog.ts'

/** Each service account's DATABASE_URL and AMQP_URL: its own database role and broker user. */
export interface ServiceUrls {
  database: ServiceDatabaseUrls
  broker: ServiceBrokerUrls
}

export interface SystemOptions {
  /** PostgreSQL as an admin (a superuser): the migrate step alone connects with it. */
  databaseUrl: string
  /** RabbitMQ as an administrator of its vhost: checked at start, and the broker setup's vhost. */
  amqpUrl: string
  /**
   * Each service's own DATABASE_URL and AMQP_URL (doc/security.md, "Least privilege"), which
   * the migrate step and the broker setup create or update. Default: the accounts' own names
   * (`order_service`, `order-service`, …) on the servers and vhost of databaseUrl and amqpUrl,
   * with a fresh password every start.
   */
  serviceUrls?: ServiceUrls
  /**
   * rabbitmqctl on amqpUrl's broker: before anything starts, the services' users, their
   * permissions and the event exchanges are then created or updated there. Without it they
   * must exist already.
   */
  rabbitmqctl?: Rabbitmqctl
  /** Missing ports take DEFAULT_PORTS; tests pass `await freeSystemPorts()`. */
  ports?: Partial<SystemPorts>
  /** Added to every child's environment, after (so overriding) what the launcher sets. */
  env?: Record<string, string | undefined>
  /** Every output line of every child, and the launcher's own ("system"). Default: stdout, prefixed. */
  onLog?: LogLine
  /** PROCESSING_DELAY_MS of the order-processor (default 0). */
  processingDelayMs?: number
  /** ORDER_GRACE_PERIOD_MS of the order-service: how long a new order stays cancellable before processing (default 0). */
  orderGracePeriodMs?: number
  /** LOG_LEVEL of every service (default "info"). */
  logLevel?: string
  /** First check that PostgreSQL and RabbitMQ answer, then run the migrate step (the database if
   *  needed, the roles, the migrations) and the broker setup (with `rabbitmqctl`) (default true).
   *  Stand-in services that use neither (the launcher's tests) pass false. */
  migrate?: boolean
  /** How long every process may take to become ready (default 60 s). */
  readyTimeoutMs?: number
  /** Scripts to run instead of the real entry points (relative to the repository root or absolute). */
  entryPoints?: Partial<Record<ServiceName, string>>
  /** Aborting stops a start in progress (the children are stopped, startSystem rejects). */
  signal?: AbortSignal
  /**
   * The user-service's SIGNING_KEY_ENCRYPTION_KEY. A system on a database of its own (tests,
   * bench, chaos) gets a fresh one; `pnpm dev` passes the one it keeps, so that a restart
   * still decrypts the keys stored before.
   */
  signingKeyEncryptionKey?: string
}

export interface RunningSystem {
  /** http://127.0.0.1:<gateway port>, no trailing slash. */
  gatewayUrl: string
  ports: SystemPorts
  /** What each service connects as. */
  serviceUrls: ServiceUrls
  processes: Map<ProcessName, ManagedProcess>
  /** The OAuth client the processor uses (its secret is generated per start). */
  processorClient: { clientId: string, clientSecret: string }
  /** Stops every child (SIGTERM, SIGKILL after 10 s) and resolves when all have exited. */
  stop: () => Promise<void>
}

/**
 * Starts the platform and resolves once every process is ready and the gateway routes to
 * the services. On any failure the children started so far are stopped and the error names
 * the process that failed, with its last output lines.
 */
export async function startSystem (options: SystemOptions): Promise<RunningSystem> {
  const ports: SystemPorts = { ...DEFAULT_PORTS, ...definedValues(options.ports ?? {}) }
  const log = options.onLog ?? createPrefixedWriter()
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000
  const entryPoints = { ...DEFAULT_ENTRY_POINTS, ...definedValues(options.entryPoints ?? {}) }

  const missing = Object.values(entryPoints).filter(entry => !existsSync(path.resolve(REPO_ROOT, entry)))
  if (missing.length > 0) throw new Error(`entry points not found: ${[...new Set(missing)].join(', ')}`)
  await assertPortsFree(ports)
  const haproxy = findHaproxy()
  const serviceUrls = options.serviceUrls ?? freshServiceUrls(options)
  if (options.migrate !== false) {
    // A stopped server or a wrong port is named at once ("cannot reach RabbitMQ at …"), rather
    // than as every service's retry warnings until the readiness timeout.
    await Promise.all([reachDatabase(options.databaseUrl, { maintenanceDatabase: true }), reachBroker(options.amqpUrl)])
    await migrate(options.databaseUrl, serviceUrls.database, log)
    if (options.rabbitmqctl !== undefined) await setUpBroker(options.amqpUrl, serviceUrls.broker, options.rabbitmqctl, log)
  }
  options.signal?.throwIfAborted()

  const clientSecret = randomBytes(32).toString('base64url')
  const signingKeyEncryptionKey = options.signingKeyEncryptionKey ?? randomBytes(32).toString('base64')
  const watchdog = startWatchdog()
  let gateway: ManagedChild | undefined
  const context: SpecContext = { options, ports, serviceUrls, clientSecret, signingKeyEncryptionKey, gatewayRunning: () => gateway?.running === true }
  const services = SERVICES.map(entry => new ManagedChild(serviceSpec(entry, entryPoints[entry.name], context), log, watchdog))
  gateway = new ManagedChild(gatewaySpec(haproxy, context), log, watchdog)
  const children = [...services, gateway]

  const stopAll = once(async () => {
    await Promise.all(children.map(async child => { await child.stop() }))
    await watchdog.close()
    process.off('exit', killAllOnExit)
  })
  // Last resort when the launcher exits without stop(): only synchronous work is possible here.
  const killAllOnExit = () => { for (const child of children) child.kill('SIGTERM') }
  process.on('exit', killAllOnExit)

  const abort = () => { void stopAll() }
  options.signal?.addEventListener('abort', abort, { once: true })
  const deadline = Date.now() + readyTimeoutMs
  try {
    // HAProxy last, so its first health checks find the services listening and its log
    // shows only real state changes.
    for (const child of services) child.start()
    await waitUntilAllReady(services, deadline, options.signal)
    gateway.start()
    await waitUntilAllReady([gateway], deadline, options.signal)
  } catch (err) {
    await stopAll()
    throw err
  } finally {
    options.signal?.removeEventListener('abort', abort)
  }
  log('system', `ready: gateway on http://127.0.0.1:${ports.gateway}`)
  return {
    gatewayUrl: `http://127.0.0.1:${ports.gateway}`,
    ports,
    serviceUrls,
    processes: new Map(children.map(child => [child.name, child])),
    processorClient: { clientId: PROCESSOR_CLIENT_ID, clientSecret },
    stop: stopAll
  }
}

/** The accounts' own role and user names on the servers of `databaseUrl` and `amqpUrl`, with passwords made for this start. */
function freshServiceUrls ({ databaseUrl, amqpUrl }: SystemOptions): ServiceUrls {
  const passwords = () => Object.fromEntries(SERVICE_ACCOUNTS.map(account => [account, randomBytes(18).toString('hex')])) as Record<ServiceAccount, string>
  return {
    database: serviceDatabaseUrls(databaseUrl, { passwords: passwords() }),
    broker: serviceBrokerUrls(amqpUrl, { passwords: passwords() })
  }
}

interface SpecContext {
  options: SystemOptions
  ports: SystemPorts
  serviceUrls: ServiceUrls
  clientSecret: string
  signingKeyEncryptionKey: string
  gatewayRunning: () => boolean
}

const local = (port: number) => `http://127.0.0.1:${port}`
// HAProxy's status page asks for a password (haproxy.cfg); a fresh one for every launcher.
const STATS_PASSWORD = randomBytes(18).toString('base64url')
const statsUrl = (port: number) => `http://stats:${STATS_PASSWORD}@127.0.0.1:${port}`

function serviceSpec (entry: ServiceEntry, entryPoint: string, { options, ports, serviceUrls, clientSecret, signingKeyEncryptionKey, gatewayRunning }: SpecContext): ProcessSpec {
  const values: Record<ServiceEnvName, string> = {
    // Its own role and broker user; a process without an account (the web app) reads neither.
    DATABASE_URL: entry.account === undefined ? '' : serviceUrls.database[entry.account],
    AMQP_URL: entry.account === undefined ? '' : serviceUrls.broker[entry.account],
    HOST: '127.0.0.1',
    LOG_LEVEL: options.logLevel ?? 'info',
    USER_SERVICE_URL: local(ports.userService),
    GATEWAY_URL: local(ports.gateway),
    SERVICE_CLIENTS: JSON.stringify([{ client_id: PROCESSOR_CLIENT_ID, client_secret: clientSecret, scopes: ['orders:status'] }]),
    INSTANCE_ID: entry.name,
    // Rate limits and WebSocket counts (doc/security.md): the machine's Redis unless told otherwise.
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    PROCESSOR_CLIENT_ID,
    PROCESSOR_CLIENT_SECRET: clientSecret,
    PROCESSING_DELAY_MS: String(options.processingDelayMs ?? 0),
    ORDER_GRACE_PERIOD_MS: String(options.orderGracePeriodMs ?? 0),
    SIGNING_KEY_ENCRYPTION_KEY: signingKeyEncryptionKey
  }
  const url = local(ports[entry.port.key])
  const server = entry.gateway?.checked === true ? `${entry.gateway.backend}/${entry.gateway.server}` : undefined
  return {
    name: entry.name,
    command: process.execPath,
    args: ['--import', 'tsx', entryPoint],
    env: childEnv({ ...Object.fromEntries(entry.env.map(name => [name, values[name]])), PORT: String(ports[entry.port.key]) }, options.env),
    url,
    probe: async () => {
      // A service behind the gateway (re)started while HAProxy runs is ready once HAProxy
      // has it back in rotation, so a test's next request through the gateway can reach it.
      return await probeReadyz(url) ??
        (server !== undefined && gatewayRunning() ? await probeGatewayServers(statsUrl(ports.haproxyStats), [server]) : null)
    }
  }
}

// HAProxy prints each server state change twice: as a log line on stdout and as a
// [WARNING]/[ALERT] on stderr. The log line is kept.
const HAPROXY_STATE_CHANGE = /^\[(WARNING|ALERT)\] +\(\d+\) : (Server \S+ is (UP|DOWN)|backend '[^']+' has no server available)/

function gatewaySpec (haproxy: string, { options, ports }: SpecContext): ProcessSpec {
  const addresses = Object.fromEntries(GATEWAY_ADDRESSES.flatMap(({ hostEnv, port }) =>
    [[hostEnv, '127.0.0.1'], [port.env, String(ports[port.key])]]))
  return {
    name: GATEWAY.name,
    command: haproxy,
    // -db: foreground, no daemon; logs go to stdout (see haproxy.cfg).
    args: ['-db', '-f', path.join(REPO_ROOT, GATEWAY.config)],
    env: childEnv({ ...addresses, STATS_PASSWORD }, options.env),
    url: local(ports.gateway),
    probe: async () => await probeGateway(local(ports.gateway), statsUrl(ports.haproxyStats), CHECKED_GATEWAY_SERVERS),
    skipStderrLine: line => HAPROXY_STATE_CHANGE.test(line)
  }
}

function childEnv (own: Record<string, string>, overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...own, ...overrides }
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key]
  return env
}

function once (action: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined
  return async () => { running ??= action(); await running }
}

function definedValues<T extends object> (value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}
