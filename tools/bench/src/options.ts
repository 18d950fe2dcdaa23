import path from 'node:path'
import { parseArgs } from 'node:util'

export interface BenchOptions {
  /** Seconds of each HTTP measurement, of pgbench and of the pipeline's latency run. */
  durationS: number
  /** autocannon connections and pgbench clients. */
  connections: number
  /** Seconds of each step of the pipeline's rate search. */
  stepS: number
  /** The pipeline search starts at this many orders/s and never offers more than maxRate. */
  startRate: number
  maxRate: number
  quick: boolean
  /** The measurements to run (all by default). */
  only: Set<Measurement>
  /** Start a system of its own even when one answers at gatewayUrl. */
  startOwn: boolean
  /** LOG_LEVEL of a started system's services (warn: logging does not dominate what is measured). */
  logLevel: string
  /** Profile every Node process of a started system into this directory (absolute). */
  cpuProfileDir: string | undefined
  gatewayUrl: string
  databaseUrl: string
  amqpUrl: string
}

export const MEASUREMENTS = ['baseline', 'post', 'get', 'list', 'login', 'pipeline', 'audience', 'growth'] as const
export type Measurement = typeof MEASUREMENTS[number]

export const USAGE = `pnpm bench [--duration <s>] [--connections <n>] [--quick] [--max-rate <n>] [--only <list>]
                  [--start] [--log-level <level>] [--cpu-prof <dir>]

  --duration <s>       each HTTP measurement, pgbench and the pipeline latency run (default 10)
  --connections <n>    autocannon connections and pgbench clients (default 16)
  --quick              2 s each, shorter pipeline steps: a smoke run
  --max-rate <n>       the pipeline search never offers more orders/s than this (default 4000)
  --only <list>        some of ${MEASUREMENTS.join(',')} (default: all); the ratios need
                       baseline and the figure they divide; audience: 5,000 WebSockets in
                       rounds with and without them (AUDIENCE_P99_TOLERANCE, default 1.25);
                       growth (last: it seeds 1,000,000 orders) compares POST /orders,
                       GET /orders/{id} and GET /orders?limit=20 before and after, in a
                       system the bench starts
  --start              always start a system of its own (free ports), even when one answers
                       at GATEWAY_URL
  --log-level <level>  LOG_LEVEL of the services of a system the bench starts (default warn;
                       info logs every request, as \`pnpm dev\` does)
  --cpu-prof <dir>     profile every Node process of the system the bench starts; one
                       .cpuprofile per process in <dir> when it stops (not for a running system)

Environment: GATEWAY_URL (default http://127.0.0.1:8080): a running system there is measured,
otherwise one is started (own database and vhost) and stopped at the end. DATABASE_URL
(default postgres://postgres@127.0.0.1:5432/order_platform): where pgbench runs against a
running system. AMQP_URL: the broker of a started system.`

/** Reads the command line and the environment; throws with the usage text on a bad flag. */
export function parseBenchOptions (argv: string[], env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string' },
      connections: { type: 'string' },
      quick: { type: 'boolean', default: false },
      'max-rate': { type: 'string' },
      'cpu-prof': { type: 'string' },
      only: { type: 'string' },
      'log-level': { type: 'string' },
      start: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false }
    },
    strict: true
  })
  if (values.help) {
    console.log(USAGE)
    process.exit(0)
  }
  const quick = values.quick === true
  const durationS = positiveNumber('--duration', values.duration, quick ? 2 : 10)
  const gatewayUrl = (env.GATEWAY_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '')
  // Load goes to this machine only: a benchmark pointed elsewhere by a stray variable would
  // be an attack on someone else's server.
  const host = new URL(gatewayUrl).hostname
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(host)) throw new Error(`GATEWAY_URL must point at this machine (127.0.0.1), not ${host}`)
  return {
    durationS,
    connections: positiveInteger('--connections', values.connections, 16),
    // Two steps per full measurement's duration keep the whole search near one minute at the
    // default 10 s (about a dozen steps with the drains between them).
    stepS: quick ? 2 : Math.max(2, durationS / 2),
    startRate: 50,
    maxRate: positiveNumber('--max-rate', values['max-rate'], 4000),
    quick,
    only: parseOnly(values.only),
    logLevel: parseLogLevel(values['log-level']),
    startOwn: values.start === true,
    cpuProfileDir: values['cpu-prof'] === undefined ? undefined : path.resolve(values['cpu-prof']),
    gatewayUrl,
    databaseUrl: env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/order_platform',
    amqpUrl: env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'
  }
}

function parseLogLevel (raw: string | undefined): string {
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']
  if (raw === undefined) return 'warn'
  if (!levels.includes(raw)) throw new Error(`--log-level takes one of ${levels.join(', ')}, not "${raw}"\n\n${USAGE}`)
  return raw
}

function parseOnly (raw: string | undefined): Set<Measurement> {
  if (raw === undefined) return new Set(MEASUREMENTS)
  const names = raw.split(',').map(name => name.trim()).filter(Boolean)
  const unknown = names.filter(name => !(MEASUREMENTS as readonly string[]).includes(name))
  if (unknown.length > 0 || names.length === 0) throw new Error(`--only takes some of ${MEASUREMENTS.join(',')}, not "${raw}"\n\n${USAGE}`)
  return new Set(names as Measurement[])
}

function positiveNumber (flag: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${flag} must be a positive number, not "${raw}"\n\n${USAGE}`)
  return value
}

function positiveInteger (flag: string, raw: string | undefined, fallback: number): number {
  const value = positiveNumber(flag, raw, fallback)
  if (!Number.isInteger(value)) throw new Error(`${flag} must be a whole number, not "${raw}"\n\n${USAGE}`)
  return value
}
