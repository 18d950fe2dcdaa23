/**
 * `pnpm dev` — the whole platform on this machine behind the gateway, every process's output
 * in one terminal. Ctrl-C (or SIGTERM) stops every process it started.
 *
 * Environment (doc/ports-and-env.md): DATABASE_URL, AMQP_URL, GATEWAY_PORT and the other
 * *_PORT variables, LOG_LEVEL, PROCESSING_DELAY_MS — 500 ms here, so a person can watch
 * an order move through its states — and ORDER_GRACE_PERIOD_MS, 5 s here, to cancel a new order.
 *
 * `pnpm dev --ha` (doc/ha.md): the same platform on a 3-node RabbitMQ cluster (5681–5683) and
 * PostgreSQL under Patroni behind HAProxy (5440), started here with their data in `.ha/`
 * (kept for the next start); DATABASE_URL and AMQP_URL then point at them.
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { Type } from '@sinclair/typebox'
import { loadConfig } from '@orders/platform'
import { createPrefixedWriter, localRabbitmqctl, PORTS, REPO_ROOT, startHaEngines, startSystem, type HaEngines, type RunningSystem, type SystemPorts } from '@orders/system'
import { startObservingFromDev } from '@orders/system/observe'

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log('usage: pnpm dev [--ha]\n\n  Migrates and starts the whole platform behind the gateway (http://127.0.0.1:8080), every\n  process\'s output in one terminal; Ctrl-C stops it. --ha: on a RabbitMQ cluster and Patroni of\n  its own (doc/ha.md). Environment: doc/ports-and-env.md (DATABASE_URL, AMQP_URL, *_PORT,\n  LOG_LEVEL, PROCESSING_DELAY_MS, ORDER_GRACE_PERIOD_MS).')
  process.exit(0)
}

// Each port's variable and default come from the process table (@orders/system's topology.ts).
const config = loadConfig(Type.Object({
  DATABASE_URL: Type.String({ default: 'postgres://postgres@127.0.0.1:5432/order_platform' }),
  AMQP_URL: Type.String({ default: 'amqp://guest:guest@127.0.0.1:5672' }),
  LOG_LEVEL: Type.String({ default: 'info' }),
  PROCESSING_DELAY_MS: Type.Integer({ minimum: 0, default: 500 }),
  ORDER_GRACE_PERIOD_MS: Type.Integer({ minimum: 0, default: 5_000 }),
  ...Object.fromEntries(PORTS.map(port => [port.env, Type.Integer({ minimum: 1, maximum: 65535, default: port.default })]))
}))
const ports = Object.fromEntries(PORTS.map(port => [port.key, (config as Record<string, unknown>)[port.env] as number])) as unknown as SystemPorts

/**
 * The user-service's key-encryption key: SIGNING_KEY_ENCRYPTION_KEY when set, otherwise the one
 * kept in .data/signing-key-encryption-key (gitignored), written at the first start. Kept,
 * because the database keeps the signing keys it encrypted: a new one each start would not
 * decrypt them.
 */
function developmentEncryptionKey (): string {
  if (process.env.SIGNING_KEY_ENCRYPTION_KEY) return process.env.SIGNING_KEY_ENCRYPTION_KEY
  const file = path.join(REPO_ROOT, '.data', 'signing-key-encryption-key')
  try {
    return readFileSync(file, 'utf8').trim()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const key = randomBytes(32).toString('base64')
  mkdirSync(path.dirname(file), { recursive: true })
  writeFileSync(file, `${key}\n`, { mode: 0o600 })
  return key
}

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' }
const write = createPrefixedWriter()
const log = (source: string, line: string) => { write(source, readableLogLine(line)) }

// First signal: stop in order (also a start still in progress). Second: don't wait any more;
// the launcher's exit hook and watchdog (@orders/system) take the children down. A second
// signal within a second is the same Ctrl-C passed on by a wrapper (pnpm), not a person.
const startAborted = new AbortController()
let requestStop: () => void = () => {}
const stopRequested = new Promise<void>(resolve => { requestStop = resolve })
let firstSignalAt = 0
function stopOn (reason: string): void {
  if (startAborted.signal.aborted) {
    if (Date.now() - firstSignalAt < 1_000) return
    log('system', `${reason} again: not waiting for the processes any more`)
    process.exit(130)
  }
  firstSignalAt = Date.now()
  log('system', `${reason}: stopping every process (again to force)`)
  startAborted.abort()
  requestStop()
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => { stopOn(signal) })

// `pnpm dev` runs this under pnpm and a shell. A SIGTERM sent to pnpm alone ends pnpm but
// not this process, which would keep the platform running with nobody watching: when the
// parent goes away, stop as if signalled.
const parentPid = process.ppid
setInterval(() => {
  if (process.ppid !== parentPid && !startAborted.signal.aborted) stopOn('the parent process exited')
}, 500).unref()

const ha = process.argv.includes('--ha')
let engines: HaEngines | undefined
let system: RunningSystem
try {
  if (ha) {
    engines = await startHaEngines({ baseDir: path.join(REPO_ROOT, '.ha'), database: new URL(config.DATABASE_URL).pathname.slice(1), onLog: log })
    startAborted.signal.throwIfAborted()
  }
  system = await startSystem({
    // As admins: the migrate step and the broker setup create each service's own role and
    // user (fresh passwords every start), which the services connect as (doc/security.md).
    databaseUrl: engines?.databaseUrl ?? config.DATABASE_URL,
    amqpUrl: engines?.amqpUrl ?? config.AMQP_URL,
    rabbitmqctl: engines?.broker.rabbitmqctl ?? localRabbitmqctl,
    // Every quorum queue on all three nodes of the cluster.
    env: ha ? { QUORUM_INITIAL_GROUP_SIZE: '3' } : undefined,
    logLevel: config.LOG_LEVEL,
    processingDelayMs: config.PROCESSING_DELAY_MS,
    orderGracePeriodMs: config.ORDER_GRACE_PERIOD_MS,
    ports,
    onLog: log,
    signal: startAborted.signal,
    signingKeyEncryptionKey: developmentEncryptionKey()
  })
} catch (err) {
  await engines?.stop()
  if (!startAborted.signal.aborted) {
    log('system', `could not start the platform: ${(err as Error).message}`)
    process.exit(1)
  }
  log('system', 'stopped before it was ready')
  process.exit(0)
}

console.log([
  '',
  `Web app:        ${system.gatewayUrl}/ (open it in a browser)`,
  `Gateway:        ${system.gatewayUrl}`,
  `API docs:       http://127.0.0.1:${ports.userService}/docs (user-service), http://127.0.0.1:${ports.orderService1}/docs (order-service)`,
  `HAProxy status: http://127.0.0.1:${ports.haproxyStats}/stats`,
  `Database:       ${engines?.databaseUrl.replace(/:[^:@/]+@/, ':…@') ?? config.DATABASE_URL}`,
  ...(engines === undefined ? [] : [`RabbitMQ:       ${engines.broker.amqpUrls.join(', ')} (a cluster; doc/ha.md)`]),
  'Ctrl-C stops everything.',
  ''
].join('\n'))

// --observe: Prometheus scraping every process (doc/operations.md).
const observing = process.argv.includes('--observe') ? await startObservingFromDev(system, log, engines?.broker.nodes) : undefined

await stopRequested
await observing?.stop()
await system.stop()
await engines?.stop()
log('system', 'every process has stopped')
process.exit(0)

/**
 * pino's JSON lines as "12:00:01 INFO  message {other fields}" — easier on the eyes in a
 * terminal; anything else (HAProxy, stack traces) passes through unchanged.
 */
function readableLogLine (line: string): string {
  if (!line.startsWith('{')) return line
  let entry: Record<string, unknown>
  try {
    entry = JSON.parse(line) as Record<string, unknown>
  } catch {
    return line
  }
  const { level, time, msg, pid: _pid, hostname: _hostname, name: _name, ...rest } = entry
  if (typeof level !== 'number') return line
  const clock = typeof time === 'number' ? new Date(time).toTimeString().slice(0, 8) : ''
  const fields = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : ''
  return `${clock} ${(LEVELS[level] ?? String(level)).padEnd(5)} ${String(msg ?? '')}${fields}`
}
