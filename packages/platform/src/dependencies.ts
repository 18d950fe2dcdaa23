import pg from 'pg'
import { Connection } from 'rabbitmq-client'
import { brokerAddresses } from './broker.ts'

/**
 * Whether a process can reach what it needs, said in one line a person can act on:
 * "cannot reach PostgreSQL at 127.0.0.1:5499: connection refused". Used at start by the services,
 * the launcher and `pnpm migrate`, so a wrong port or a stopped server is named within seconds
 * instead of surfacing as retry warnings or a driver's stack trace.
 */
export class DependencyUnreachableError extends Error {
  override name = 'DependencyUnreachableError'
}

/** Long enough for a server that is restarting; short enough that a person is not left waiting. */
export const REACH_TIMEOUT_MS = 4_000

/** host:port of a URL, without its credentials. */
export function addressOf (url: string, defaultPort: number): string {
  try {
    const parsed = new URL(url)
    return `${parsed.hostname}:${parsed.port || defaultPort}`
  } catch {
    return 'an address that is not a URL'
  }
}

/** A connection failure in words: "connection refused", "host not found", … */
export function connectionProblem (err: unknown, timeoutMs = REACH_TIMEOUT_MS): string {
  const { code, message } = (err ?? {}) as { code?: string, message?: string }
  switch (code) {
    case 'ECONNREFUSED': return 'connection refused'
    case 'ENOTFOUND': case 'EAI_AGAIN': return 'host not found'
    case 'ETIMEDOUT': case 'CONNECTION_TIMEOUT': return `no answer within ${timeoutMs / 1000} s`
    case 'EHOSTUNREACH': case 'ENETUNREACH': return 'host unreachable'
    case 'ACCESS_REFUSED': return 'access refused (check the user and password in AMQP_URL)'
    case '28P01': case '28000': return 'authentication failed (check the user and password in DATABASE_URL)'
    case '3D000': return 'the database does not exist (`pnpm migrate up` creates it)'
    case '57P03': return 'the server is starting up'
  }
  if (message !== undefined && /timeout/i.test(message)) return `no answer within ${timeoutMs / 1000} s`
  return message ?? 'no answer'
}

/**
 * Resolves once PostgreSQL at `url` answers; throws DependencyUnreachableError within about
 * `timeoutMs` otherwise. `database: 'postgres'` checks the server without the app's database.
 */
export async function reachDatabase (url: string, options: { timeoutMs?: number, maintenanceDatabase?: boolean } = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? REACH_TIMEOUT_MS
  const target = new URL(url)
  if (options.maintenanceDatabase) target.pathname = '/postgres'
  const client = new pg.Client({ connectionString: target.toString(), connectionTimeoutMillis: timeoutMs })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.query('select 1')
  } catch (err) {
    throw new DependencyUnreachableError(`cannot reach PostgreSQL at ${addressOf(url, 5432)}: ${connectionProblem(err, timeoutMs)}`)
  } finally {
    await client.end().catch(() => {})
  }
}

const DEFINITE_ANSWERS = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ACCESS_REFUSED', 'EHOSTUNREACH', 'ENETUNREACH'])

/**
 * An AMQP connection to RabbitMQ at `url` (one node or a comma-separated cluster) that is up,
 * or DependencyUnreachableError within about `timeoutMs`. The caller owns it and closes it.
 * Later connection errors are kept out of the process's 'error' path; the client reconnects.
 */
export async function connectToBroker (url: string, options: { connectionName: string, timeoutMs?: number }): Promise<Connection> {
  const timeoutMs = options.timeoutMs ?? REACH_TIMEOUT_MS
  const connection = new Connection({ ...brokerAddresses(url), connectionName: options.connectionName, retryLow: 100, retryHigh: 500, connectionTimeout: timeoutMs })
  let lastError: unknown
  let refused: () => void = () => {}
  const definitelyDown = new Promise<false>(resolve => { refused = () => { resolve(false) } })
  // Without a listener an 'error' event would crash the process with a stack trace.
  connection.on('error', err => {
    lastError = err
    // Nothing listens there, or no such host: waiting cannot change that.
    if (DEFINITE_ANSWERS.has((err as { code?: string }).code ?? '')) refused()
  })
  // disableAutoClose: on failure the connection is closed below; onConnect's own closing would
  // leave that close() waiting for a socket that is already gone.
  const connected = await Promise.race([connection.onConnect(timeoutMs, true).then(() => true, () => false), definitelyDown])
  if (connected) return connection
  await connection.close()
  const where = url.split(',').map(node => addressOf(node.trim(), 5672)).join(', ')
  throw new DependencyUnreachableError(`cannot reach RabbitMQ at ${where}: ${connectionProblem(lastError ?? { code: 'CONNECTION_TIMEOUT' }, timeoutMs)}`)
}

/** Resolves once RabbitMQ at `url` accepts a connection (see connectToBroker). */
export async function reachBroker (url: string, options: { timeoutMs?: number } = {}): Promise<void> {
  const connection = await connectToBroker(url, { connectionName: 'reachability-check', timeoutMs: options.timeoutMs })
  await connection.close()
}

/**
 * At a service's start: both checked at once; if one cannot be reached the process says so in
 * one line per dependency on stderr (no stack trace) and exits with status 1, so whoever runs it
 * (a person, the launcher, an orchestrator) sees why at once.
 */
export async function requireDependencies (service: string, urls: { database?: string, broker?: string }): Promise<void> {
  const checks = [
    ...(urls.database === undefined ? [] : [reachDatabase(urls.database)]),
    ...(urls.broker === undefined ? [] : [reachBroker(urls.broker)])
  ]
  const problems = (await Promise.allSettled(checks)).flatMap(result => (result.status === 'rejected' ? [result.reason as Error] : []))
  if (problems.length === 0) return
  for (const problem of problems) process.stderr.write(`${service}: ${problem instanceof DependencyUnreachableError ? problem.message : String(problem)}\n`)
  process.exit(1)
}
