/**
 * The platform's processes in one table: what runs, from which package and entry point, on
 * which port (and the variable that names it), with which environment, and how it sits behind
 * the gateway. The launcher, `pnpm dev`, the tests, bench and chaos read it;
 * test/topology-agreement.test.ts checks that haproxy.cfg, compose.yaml and
 * doc/ports-and-env.md say the same.
 */
import { fileURLToPath } from 'node:url'
import type { ServiceAccount } from '@orders/contracts'

export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url))

export type ServiceName = 'user-service' | 'order-service-1' | 'order-service-2' | 'relay' | 'order-processor' | 'web'
export type ProcessName = ServiceName | 'haproxy'

export interface SystemPorts {
  gateway: number
  userService: number
  orderService1: number
  orderService2: number
  relay: number
  processor: number
  /** The web app (packages/web): HAProxy sends it every path that is not the API. */
  web: number
  /** HAProxy's status page (/stats); the launcher reads it to know the services are in rotation. */
  haproxyStats: number
}

/** A port of the system: its key in SystemPorts, the variable that names it, its default. */
export interface PortEntry {
  key: keyof SystemPorts
  env: string
  default: number
}

/** Variables the launcher sets for a service, beyond PORT (values: start.ts). */
export type ServiceEnvName = 'DATABASE_URL' | 'AMQP_URL' | 'HOST' | 'LOG_LEVEL' | 'USER_SERVICE_URL' | 'GATEWAY_URL'
| 'SERVICE_CLIENTS' | 'INSTANCE_ID' | 'REDIS_URL' | 'PROCESSOR_CLIENT_ID' | 'PROCESSOR_CLIENT_SECRET' | 'PROCESSING_DELAY_MS' | 'ORDER_GRACE_PERIOD_MS'
| 'SIGNING_KEY_ENCRYPTION_KEY'

export interface ServiceEntry {
  name: ServiceName
  package: string
  /** Relative to the repository root; started as `node --import tsx <entryPoint>`. */
  entryPoint: string
  /** The service's own port: it listens on PORT, set from this. */
  port: PortEntry
  env: readonly ServiceEnvName[]
  /**
   * Whose database role and broker user it connects as (its DATABASE_URL and AMQP_URL):
   * doc/security.md, "Least privilege". The relay is the order-service's.
   */
  account?: ServiceAccount
  /**
   * Its place in haproxy.cfg: `server <server>` in `backend <backend>`, at
   * "${<hostEnv>}:${<port.env>}". `checked`: HAProxy health-checks it, so the launcher waits
   * until HAProxy has it up.
   */
  gateway?: { backend: string, server: string, hostEnv: string, checked: boolean }
  /** ANSI color of its name in `pnpm dev`'s output. */
  color: number
}

const CONNECTED: readonly ServiceEnvName[] = ['DATABASE_URL', 'AMQP_URL', 'HOST', 'LOG_LEVEL']

/** In start order. Readiness: GET /readyz answers 200 (and in rotation, when `gateway.checked`). */
export const SERVICES: readonly ServiceEntry[] = [
  {
    name: 'user-service',
    package: '@orders/user-service',
    entryPoint: 'packages/user-service/src/server.ts',
    port: { key: 'userService', env: 'USER_SERVICE_PORT', default: 3001 },
    env: [...CONNECTED, 'SERVICE_CLIENTS', 'REDIS_URL', 'SIGNING_KEY_ENCRYPTION_KEY'],
    account: 'user-service',
    gateway: { backend: 'user_service', server: 'user-service', hostEnv: 'USER_SERVICE_HOST', checked: true },
    color: 36
  },
  ...([1, 2] as const).map((n): ServiceEntry => ({
    name: `order-service-${n}`,
    package: '@orders/order-service',
    entryPoint: 'packages/order-service/src/server.ts',
    port: { key: `orderService${n}`, env: `ORDER_SERVICE_${n}_PORT`, default: 3001 + n },
    env: [...CONNECTED, 'INSTANCE_ID', 'USER_SERVICE_URL', 'ORDER_GRACE_PERIOD_MS', 'REDIS_URL'],
    account: 'order-service',
    gateway: { backend: 'order_service', server: `order-service-${n}`, hostEnv: `ORDER_SERVICE_${n}_HOST`, checked: true },
    color: n === 1 ? 32 : 92
  })),
  {
    name: 'relay',
    package: '@orders/order-service',
    entryPoint: 'packages/order-service/src/relay.ts',
    port: { key: 'relay', env: 'RELAY_PORT', default: 3004 },
    env: CONNECTED,
    account: 'order-service',
    color: 33
  },
  {
    name: 'order-processor',
    package: '@orders/order-processor',
    entryPoint: 'packages/order-processor/src/server.ts',
    port: { key: 'processor', env: 'PROCESSOR_PORT', default: 3005 },
    env: [...CONNECTED, 'GATEWAY_URL', 'PROCESSOR_CLIENT_ID', 'PROCESSOR_CLIENT_SECRET', 'PROCESSING_DELAY_MS'],
    account: 'order-processor',
    color: 35
  },
  {
    // Builds the browser app first when packages/web/dist is missing or stale (doc/web.md).
    name: 'web',
    package: '@orders/web',
    entryPoint: 'packages/web/src/server.ts',
    port: { key: 'web', env: 'WEB_PORT', default: 3006 },
    env: ['HOST', 'LOG_LEVEL'],
    // Not health-checked: while it is down the gateway answers its JSON 503 at once.
    gateway: { backend: 'web', server: 'web', hostEnv: 'WEB_HOST', checked: false },
    color: 90
  }
]

/**
 * HAProxy (Debian's package), started last with haproxy.cfg, which reads every address from
 * the environment: the two ports below and each service's `gateway` entry. Ready when its
 * health checks see every checked server up and /orders gets through.
 */
export const GATEWAY = {
  name: 'haproxy',
  /** Debian's package. */
  package: 'haproxy',
  config: 'haproxy.cfg',
  port: { key: 'gateway', env: 'GATEWAY_PORT', default: 8080 },
  hostEnv: 'GATEWAY_HOST',
  stats: { port: { key: 'haproxyStats', env: 'STATS_PORT', default: 8404 }, hostEnv: 'STATS_HOST' },
  color: 34
} as const satisfies { name: ProcessName, port: PortEntry, stats: { port: PortEntry, hostEnv: string }, [key: string]: unknown }

/** Every address haproxy.cfg reads from the environment: "${<hostEnv>}:${<port.env>}". */
export const GATEWAY_ADDRESSES: ReadonlyArray<{ hostEnv: string, port: PortEntry }> = [
  { hostEnv: GATEWAY.hostEnv, port: GATEWAY.port },
  ...SERVICES.flatMap(s => s.gateway ? [{ hostEnv: s.gateway.hostEnv, port: s.port }] : []),
  GATEWAY.stats
]

export const PROCESS_NAMES: readonly ProcessName[] = [...SERVICES.map(s => s.name), GATEWAY.name]

/** Every port of the system, services first. */
export const PORTS: readonly PortEntry[] = [...SERVICES.map(s => s.port), GATEWAY.port, GATEWAY.stats.port]

/** doc/ports-and-env.md */
export const DEFAULT_PORTS: Readonly<SystemPorts> = Object.fromEntries(PORTS.map(p => [p.key, p.default])) as unknown as SystemPorts

export const DEFAULT_ENTRY_POINTS: Readonly<Record<ServiceName, string>> =
  Object.fromEntries(SERVICES.map(s => [s.name, s.entryPoint])) as Record<ServiceName, string>

/** "backend/server" of every service HAProxy health-checks, as its status page names them. */
export const CHECKED_GATEWAY_SERVERS: readonly string[] =
  SERVICES.flatMap(s => s.gateway?.checked === true ? [`${s.gateway.backend}/${s.gateway.server}`] : [])

/** The OAuth client the processor uses to change statuses (user-service's SERVICE_CLIENTS). */
export const PROCESSOR_CLIENT_ID = 'order-processor'

export function serviceEntry (name: ServiceName): ServiceEntry {
  const entry = SERVICES.find(s => s.name === name)
  if (!entry) throw new Error(`no service named ${name}`)
  return entry
}
