import { mkdirSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { Kysely } from 'kysely'
import { createDatabase } from '@orders/platform'
import { DEFAULT_PORTS, type SystemPorts } from '@orders/system'
import { startIsolatedSystem } from '@orders/system'
import type { ProcessorControl } from './create-path.ts'

/** The system under measurement: one that was already running, or one started for the run. */
export interface BenchTarget {
  gatewayUrl: string
  /** The database the services write to; pgbench runs its baseline there. */
  databaseUrl: string
  /** A small pool on that database, for the bench's own queries (settling, statistics, cleanup). */
  db: Kysely<any>
  /** True when this run started the system (PROCESSING_DELAY_MS=0, LOG_LEVEL=warn). */
  startedHere: boolean
  ports: SystemPorts
  /** Stops and starts the order-processor of a started system (the create path is measured without it). */
  processor?: ProcessorControl
  /** The last output lines of a started system's processes, for error messages. */
  lastLogLines: () => string[]
  /** Stops what this run started and drops its database and vhost; nothing for a running system. */
  stop: () => Promise<void>
}

const KEPT_LOG_LINES = 300
const PROFILE_HOOK = fileURLToPath(new URL('./cpu-profile-hook.mjs', import.meta.url))

/**
 * Measures the system at `gatewayUrl` when something answers there (what `pnpm dev` starts),
 * otherwise starts the whole platform on free ports with a database and a RabbitMQ vhost of its
 * own, as the end-to-end tests do, with the processor's simulated delay off and logging at warn
 * (unless told otherwise) so that neither dominates what is measured.
 */
export async function connectOrStartSystem (options: {
  gatewayUrl: string
  databaseUrl: string
  amqpUrl: string
  cpuProfileDir?: string
  logLevel: string
  startOwn: boolean
  /** Aborting stops a start in progress; the database and vhost are dropped. */
  signal?: AbortSignal
  log: (line: string) => void
}): Promise<BenchTarget> {
  const answer = options.startOwn ? null : await probeGateway(options.gatewayUrl)
  if (answer !== null) {
    if (options.logLevel !== 'warn') throw new Error(`--log-level sets the logging of a system the bench starts, but one is running at ${options.gatewayUrl}`)
    if (options.cpuProfileDir) throw new Error(`--cpu-prof profiles a system the bench starts itself, but one is running at ${options.gatewayUrl}`)
    if (answer >= 500) throw new Error(`a gateway answers at ${options.gatewayUrl}, but GET /orders gives ${answer}: is the system still starting?`)
    options.log(`measuring the system running at ${options.gatewayUrl} (database ${redactPassword(options.databaseUrl)})`)
    const db = createDatabase<any>({ connectionString: options.databaseUrl, poolSize: 2, applicationName: 'bench' })
    return {
      gatewayUrl: options.gatewayUrl,
      databaseUrl: options.databaseUrl,
      db,
      startedHere: false,
      ports: { ...DEFAULT_PORTS, gateway: Number(new URL(options.gatewayUrl).port || 80) },
      lastLogLines: () => [],
      stop: async () => { await db.destroy() }
    }
  }

  options.log(`${options.startOwn ? '--start' : `nothing answers at ${options.gatewayUrl}`}: starting the platform on free ports, with a database and a vhost of its own`)
  let env: Record<string, string> = {}
  if (options.cpuProfileDir) {
    mkdirSync(options.cpuProfileDir, { recursive: true })
    env = { NODE_OPTIONS: `--import=${pathToFileURL(PROFILE_HOOK).href}`, BENCH_CPU_PROFILE_DIR: options.cpuProfileDir }
    options.log(`profiling every Node process into ${options.cpuProfileDir}`)
  }
  const lines = new Array<string>(KEPT_LOG_LINES)
  let next = 0
  const lastLogLines = () => [...lines.slice(next), ...lines.slice(0, next)].filter(line => line !== undefined)
  try {
    const { system, database, vhost, stop } = await startIsolatedSystem({
      logLevel: options.logLevel,
      env,
      signal: options.signal,
      // HAProxy logs every request; keep only the tail, for a failure's message.
      onLog: (source, line) => { lines[next] = `${source.padEnd(16)} ${line}`; next = (next + 1) % KEPT_LOG_LINES }
    })
    options.log(`started: gateway on ${system.gatewayUrl}, database ${database.name}, vhost ${vhost.name}`)
    const processor = system.processes.get('order-processor')!
    return {
      gatewayUrl: system.gatewayUrl,
      databaseUrl: database.url,
      db: database.db,
      startedHere: true,
      ports: system.ports,
      processor: { stop: async () => { await processor.stop() }, start: async () => { await processor.restart() } },
      lastLogLines,
      stop: async () => { await stop().catch(err => { options.log((err as Error).message) }) }
    }
  } catch (err) {
    if (options.signal?.aborted !== true) console.error(lastLogLines().join('\n'))
    throw err
  }
}

/** The status of GET /orders through the gateway, or null when nothing listens there. */
async function probeGateway (gatewayUrl: string): Promise<number | null> {
  try {
    const response = await fetch(`${gatewayUrl}/orders`, { signal: AbortSignal.timeout(2_000) })
    await response.arrayBuffer()
    return response.status
  } catch {
    return null
  }
}

export function redactPassword (url: string): string {
  const parsed = new URL(url)
  if (parsed.password) parsed.password = '***'
  return parsed.toString()
}
