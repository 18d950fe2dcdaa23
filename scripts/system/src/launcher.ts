/**
 * The whole platform as local processes: migrations, user-service, two order-service
 * replicas, the outbox relay, the order-processor, the web app and HAProxy in front. `pnpm dev` and the
 * end-to-end tests both start it here, so a test runs exactly what a developer runs.
 *
 * Every child gets a process group of its own (detached), so a signal reaches it and
 * anything it starts, and a terminal's Ctrl-C reaches only the parent, which then stops the
 * children in order. If the parent dies without stopping them (SIGKILL, a crash), a small
 * watchdog process notices its pipe to the parent closing and stops them instead.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { accessSync, constants as fsConstants, existsSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { createDatabase, ensureDatabaseExists, migrateAllToLatest } from '@orders/platform'

export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url))
const MIGRATIONS_DIR = path.join(REPO_ROOT, 'migrations')
const HAPROXY_CONFIG = path.join(REPO_ROOT, 'haproxy.cfg')

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
  /** HAProxy's status page (/stats); the launcher reads it to know both replicas are up. */
  haproxyStats: number
}

/** doc/ports-and-env.md */
export const DEFAULT_PORTS: Readonly<SystemPorts> = {
  gateway: 8080,
  userService: 3001,
  orderService1: 3002,
  orderService2: 3003,
  relay: 3004,
  processor: 3005,
  web: 3006,
  haproxyStats: 8404
}

export const DEFAULT_ENTRY_POINTS: Readonly<Record<ServiceName, string>> = {
  'user-service': 'packages/user-service/src/server.ts',
  'order-service-1': 'packages/order-service/src/server.ts',
  'order-service-2': 'packages/order-service/src/server.ts',
  relay: 'packages/order-service/src/relay.ts',
  'order-processor': 'packages/order-processor/src/server.ts',
  // Builds the browser app first when packages/web/dist is missing or stale (doc/web.md).
  web: 'packages/web/src/server.ts'
}

export const PROCESSOR_CLIENT_ID = 'order-processor'

export interface SystemOptions {
  databaseUrl: string
  amqpUrl: string
  /** Missing ports take DEFAULT_PORTS; tests pass `await freeSystemPorts()`. */
  ports?: Partial<SystemPorts>
  /** Added to every child's environment, after (so overriding) what the launcher sets. */
  env?: Record<string, string | undefined>
  /** Every output line of every child, and the launcher's own ("system"). Default: stdout, prefixed. */
  onLog?: (source: string, line: string) => void
  /** PROCESSING_DELAY_MS of the order-processor (default 0). */
  processingDelayMs?: number
  /** LOG_LEVEL of every service (default "info"). */
  logLevel?: string
  /** Run the migrations first, creating the database if needed (default true). */
  migrate?: boolean
  /** How long every process may take to become ready (default 60 s). */
  readyTimeoutMs?: number
  /** Scripts to run instead of the real entry points (relative to the repository root or absolute). */
  entryPoints?: Partial<Record<ServiceName, string>>
  /** Aborting stops a start in progress (the children are stopped, startSystem rejects). */
  signal?: AbortSignal
}

export interface ExitStatus { code: number | null, signal: NodeJS.Signals | null }

export interface ManagedProcess {
  readonly name: ProcessName
  /** http://127.0.0.1:<port> of the process (the gateway's URL for haproxy). */
  readonly url: string
  readonly pid: number | undefined
  readonly running: boolean
  /** Sends a signal to the process's group (default SIGTERM); returns at once. */
  kill: (signal?: NodeJS.Signals) => void
  /** Resolves when the current run has exited (at once if it is not running). */
  waitForExit: () => Promise<ExitStatus>
  /** SIGTERM, then SIGKILL after 10 s; resolves when it has exited. */
  stop: () => Promise<void>
  /** Stops it if it runs, starts it again with the same environment and waits until it is ready. */
  restart: (options?: { readyTimeoutMs?: number }) => Promise<void>
  /** Resolves when it is ready: /readyz 200, or for haproxy, every service server up. */
  waitUntilReady: (timeoutMs?: number) => Promise<void>
  /** Its most recent output lines, for error messages. */
  lastLines: (count?: number) => string[]
}

export interface RunningSystem {
  /** http://127.0.0.1:<gateway port>, no trailing slash. */
  gatewayUrl: string
  ports: SystemPorts
  processes: Map<ProcessName, ManagedProcess>
  /** The OAuth client the processor uses (its secret is generated per start). */
  processorClient: { clientId: string, clientSecret: string }
  /** Stops every child (SIGTERM, SIGKILL after 10 s) and resolves when all have exited. */
  stop: () => Promise<void>
}

const STOP_TIMEOUT_MS = 10_000
const KEPT_LINES = 50

/**
 * Starts the platform and resolves once every process is ready and the gateway routes to
 * both order-service replicas. On any failure the children started so far are stopped and
 * the error names the process that failed, with its last output lines.
 */
export async function startSystem (options: SystemOptions): Promise<RunningSystem> {
  const ports: SystemPorts = { ...DEFAULT_PORTS, ...definedValues(options.ports ?? {}) }
  const log = options.onLog ?? createPrefixedWriter()
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000
  const entryPoints = { ...DEFAULT_ENTRY_POINTS, ...definedValues(options.entryPoints ?? {}) }

  const missing = Object.values(entryPoints).filter(entry => !existsSync(path.resolve(REPO_ROOT, entry)))
  if (missing.length > 0) throw new Error(`entry points not found: ${[...new Set(missing)].join(', ')}`)
  await assertPortsFree(ports)
  const haproxy = await findOrInstallHaproxy(log)
  if (options.migrate !== false) await migrate(options.databaseUrl, log)
  options.signal?.throwIfAborted()

  const clientSecret = randomBytes(32).toString('base64url')
  let gatewayRunning = () => false
  const specs = processSpecs({ options, ports, entryPoints, haproxy, clientSecret, gatewayRunning: () => gatewayRunning() })
  const watchdog = startWatchdog()
  const children = specs.map(spec => new ManagedChild(spec, log, watchdog))
  const haproxyChild = children.find(child => child.name === 'haproxy')!
  gatewayRunning = () => haproxyChild.running
  const stopAll = once(async () => {
    await Promise.all(children.map(async child => { await child.stop() }))
    await watchdog.close()
    process.off('exit', killAllOnExit)
  })
  // Last resort when the parent exits without stop(): only synchronous work is possible here.
  const killAllOnExit = () => { for (const child of children) child.kill('SIGTERM') }
  process.on('exit', killAllOnExit)

  const abort = () => { void stopAll() }
  options.signal?.addEventListener('abort', abort, { once: true })
  const deadline = Date.now() + readyTimeoutMs
  const services = children.filter(child => child.name !== 'haproxy')
  const gateway = children.filter(child => child.name === 'haproxy')
  try {
    // HAProxy last, so its first health checks find the services listening and its log
    // shows only real state changes.
    for (const child of services) child.start()
    await waitUntilAllReady(services, deadline, options.signal)
    for (const child of gateway) child.start()
    await waitUntilAllReady(gateway, deadline, options.signal)
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
    processes: new Map(children.map(child => [child.name, child])),
    processorClient: { clientId: PROCESSOR_CLIENT_ID, clientSecret },
    stop: stopAll
  }
}

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
  const keys = Object.keys(DEFAULT_PORTS) as Array<keyof SystemPorts>
  const free = await findFreePorts(keys.length)
  return Object.fromEntries(keys.map((key, i) => [key, free[i]])) as unknown as SystemPorts
}

// ---------------------------------------------------------------------------------------
// What runs, with which environment, and when it counts as ready

interface ProcessSpec {
  name: ProcessName
  command: string
  args: string[]
  env: NodeJS.ProcessEnv
  url: string
  /** null when ready, otherwise why not (for the timeout message). */
  probe: () => Promise<string | null>
}

function processSpecs ({ options, ports, entryPoints, haproxy, clientSecret, gatewayRunning }: {
  options: SystemOptions
  ports: SystemPorts
  entryPoints: Record<ServiceName, string>
  haproxy: string
  clientSecret: string
  gatewayRunning: () => boolean
}): ProcessSpec[] {
  const stats = `http://127.0.0.1:${ports.haproxyStats}`
  const local = (port: number) => `http://127.0.0.1:${port}`
  const common: Record<string, string> = {
    DATABASE_URL: options.databaseUrl,
    AMQP_URL: options.amqpUrl,
    HOST: '127.0.0.1',
    LOG_LEVEL: options.logLevel ?? 'info',
    USER_SERVICE_URL: local(ports.userService),
    GATEWAY_URL: local(ports.gateway)
  }
  const service = (name: ServiceName, port: number, env: Record<string, string> = {}): ProcessSpec => ({
    name,
    command: process.execPath,
    args: ['--import', 'tsx', entryPoints[name]],
    env: childEnv({ ...common, ...env, PORT: String(port) }, options.env),
    url: local(port),
    probe: async () => {
      // A service behind the gateway (re)started while HAProxy runs is ready once HAProxy
      // has it back in rotation, so a test's next request through the gateway can reach it.
      const server = GATEWAY_SERVERS.find(s => s.endsWith(`/${name}`))
      return await probeReadyz(local(port)) ?? (server && gatewayRunning() ? await probeGatewayServers(stats, [server]) : null)
    }
  })
  return [
    service('user-service', ports.userService, {
      SERVICE_CLIENTS: JSON.stringify([{ client_id: PROCESSOR_CLIENT_ID, client_secret: clientSecret, scopes: ['orders:status'] }])
    }),
    service('order-service-1', ports.orderService1, { INSTANCE_ID: 'order-service-1' }),
    service('order-service-2', ports.orderService2, { INSTANCE_ID: 'order-service-2' }),
    service('relay', ports.relay),
    service('order-processor', ports.processor, {
      PROCESSOR_CLIENT_ID,
      PROCESSOR_CLIENT_SECRET: clientSecret,
      PROCESSING_DELAY_MS: String(options.processingDelayMs ?? 0)
    }),
    service('web', ports.web),
    {
      name: 'haproxy',
      command: haproxy,
      // -db: foreground, no daemon; logs go to stdout (see haproxy.cfg).
      args: ['-db', '-f', HAPROXY_CONFIG],
      env: childEnv({
        GATEWAY_HOST: '127.0.0.1',
        GATEWAY_PORT: String(ports.gateway),
        USER_SERVICE_HOST: '127.0.0.1',
        USER_SERVICE_PORT: String(ports.userService),
        ORDER_SERVICE_1_HOST: '127.0.0.1',
        ORDER_SERVICE_1_PORT: String(ports.orderService1),
        ORDER_SERVICE_2_HOST: '127.0.0.1',
        ORDER_SERVICE_2_PORT: String(ports.orderService2),
        WEB_HOST: '127.0.0.1',
        WEB_PORT: String(ports.web),
        STATS_HOST: '127.0.0.1',
        STATS_PORT: String(ports.haproxyStats)
      }, options.env),
      url: local(ports.gateway),
      probe: async () => await probeGateway(local(ports.gateway), stats)
    }
  ]
}

function childEnv (own: Record<string, string>, overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...own, ...overrides }
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key]
  return env
}

async function probeReadyz (baseUrl: string): Promise<string | null> {
  try {
    const { status, body } = await httpGet(`${baseUrl}/readyz`)
    return status === 200 ? null : `GET /readyz answered ${status} ${body.slice(0, 300)}`
  } catch (err) {
    return `GET /readyz failed: ${(err as Error).message}`
  }
}

const GATEWAY_SERVERS = ['user_service/user-service', 'order_service/order-service-1', 'order_service/order-service-2']

/** Ready when HAProxy's own health checks see every service server up and /orders gets through. */
async function probeGateway (gatewayUrl: string, statsUrl: string): Promise<string | null> {
  const servers = await probeGatewayServers(statsUrl, GATEWAY_SERVERS)
  if (servers !== null) return servers
  try {
    const orders = await httpGet(`${gatewayUrl}/orders`)
    return [502, 503, 504].includes(orders.status) ? `GET /orders through the gateway answered ${orders.status}` : null
  } catch (err) {
    return `GET /orders through the gateway failed: ${(err as Error).message}`
  }
}

/** null when HAProxy's health checks see every one of `servers` ("backend/server") up. */
async function probeGatewayServers (statsUrl: string, servers: string[]): Promise<string | null> {
  try {
    const stats = await httpGet(`${statsUrl}/stats;csv`)
    // CSV columns: pxname, svname, ..., the 18th is status ("UP", "DOWN", "UP 1/2", ...).
    const status = new Map(stats.body.split('\n').map(line => line.split(',')).map(f => [`${f[0]}/${f[1]}`, f[17] ?? '']))
    const notUp = servers.filter(server => !status.get(server)?.startsWith('UP'))
    return notUp.length === 0 ? null : `HAProxy does not see these servers up yet: ${notUp.map(s => `${s} (${status.get(s) ?? 'unknown'})`).join(', ')}`
  } catch (err) {
    return `HAProxy's status page does not answer: ${(err as Error).message}`
  }
}

// ---------------------------------------------------------------------------------------
// One child process

class ManagedChild implements ManagedProcess {
  readonly name: ProcessName
  readonly url: string
  #spec: ProcessSpec
  #log: (source: string, line: string) => void
  #watchdog: Watchdog
  #child: ChildProcess | undefined
  #exited: Promise<ExitStatus> = Promise.resolve({ code: null, signal: null })
  #running = false
  #lines: string[] = []

  constructor (spec: ProcessSpec, log: (source: string, line: string) => void, watchdog: Watchdog) {
    this.name = spec.name
    this.url = spec.url
    this.#spec = spec
    this.#log = log
    this.#watchdog = watchdog
  }

  get pid (): number | undefined { return this.#running ? this.#child?.pid : undefined }
  get running (): boolean { return this.#running }

  start (): void {
    if (this.#running) throw new Error(`${this.name} is already running`)
    const child = spawn(this.#spec.command, this.#spec.args, {
      cwd: REPO_ROOT,
      env: this.#spec.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true
    })
    this.#child = child
    this.#running = true
    const pid = child.pid
    if (pid !== undefined) this.#watchdog.add(pid)
    this.#readLines(child.stdout!, false)
    this.#readLines(child.stderr!, true)
    this.#exited = new Promise(resolve => {
      // The command could not be started at all; 'close' follows.
      child.once('error', err => { this.#record(`could not start ${this.#spec.command}: ${err.message}`) })
      child.once('close', (code, signal) => {
        this.#running = false
        if (pid !== undefined) {
          this.#watchdog.remove(pid)
          // Anything the process left behind in its group goes with it.
          try { process.kill(-pid, 'SIGKILL') } catch {}
        }
        this.#log('system', `${this.name} exited ${signal ? `on ${signal}` : `with code ${code}`}`)
        resolve({ code, signal })
      })
    })
  }

  kill (signal: NodeJS.Signals = 'SIGTERM'): void {
    const pid = this.pid
    if (pid === undefined) return
    try { process.kill(-pid, signal) } catch {}
  }

  async waitForExit (): Promise<ExitStatus> {
    return await this.#exited
  }

  async stop (): Promise<void> {
    if (!this.#running) return
    this.kill('SIGTERM')
    let timer: NodeJS.Timeout | undefined
    const timedOut = await Promise.race([
      this.#exited.then(() => false),
      new Promise<boolean>(resolve => { timer = setTimeout(() => resolve(true), STOP_TIMEOUT_MS) })
    ])
    clearTimeout(timer)
    if (timedOut) {
      this.#log('system', `${this.name} did not stop within ${STOP_TIMEOUT_MS / 1000} s; killing it`)
      this.kill('SIGKILL')
      await this.#exited
    }
  }

  async restart (options: { readyTimeoutMs?: number } = {}): Promise<void> {
    await this.stop()
    this.start()
    await this.waitUntilReady(options.readyTimeoutMs)
  }

  async waitUntilReady (timeoutMs = 60_000): Promise<void> {
    await waitUntilAllReady([this], Date.now() + timeoutMs)
  }

  lastLines (count = KEPT_LINES): string[] {
    return this.#lines.slice(-count)
  }

  /** For waitUntilAllReady: the exit of the current run, and the readiness probe. */
  get exited (): Promise<ExitStatus> { return this.#exited }
  async probe (): Promise<string | null> { return await this.#spec.probe() }

  #readLines (stream: NodeJS.ReadableStream, isStderr: boolean): void {
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', line => {
      // HAProxy prints each server state change twice: as a log line on stdout and as a
      // [WARNING]/[ALERT] on stderr. Keep the log line.
      if (isStderr && this.name === 'haproxy' && HAPROXY_STATE_CHANGE.test(line)) return
      this.#record(line)
    })
  }

  #record (line: string): void {
    this.#lines.push(line)
    if (this.#lines.length > KEPT_LINES) this.#lines.shift()
    this.#log(this.name, line)
  }
}

const HAPROXY_STATE_CHANGE = /^\[(WARNING|ALERT)\] +\(\d+\) : (Server \S+ is (UP|DOWN)|backend '[^']+' has no server available)/

async function waitUntilAllReady (children: ManagedChild[], deadline: number, signal?: AbortSignal): Promise<void> {
  const pending = new Set(children)
  const reasons = new Map<ManagedChild, string>()
  let failure: Error | undefined
  for (const child of children) {
    void child.exited.then(status => {
      if (!pending.has(child)) return
      const how = status.signal ? `on ${status.signal}` : `with code ${status.code}`
      failure ??= new Error(`${child.name} exited ${how} before it was ready. Its last lines:\n${indent(child.lastLines(30))}`)
    })
  }
  while (pending.size > 0) {
    signal?.throwIfAborted()
    if (failure) throw failure
    if (Date.now() > deadline) {
      const report = [...pending].map(child =>
        `${child.name}: ${reasons.get(child) ?? 'not probed yet'}\n  last lines:\n${indent(child.lastLines(15), '    ')}`)
      throw new Error(`not ready in time:\n${report.join('\n')}`)
    }
    await Promise.all([...pending].map(async child => {
      if (!child.running) return
      const reason = await child.probe()
      if (reason === null) pending.delete(child)
      else reasons.set(child, reason)
    }))
    if (pending.size > 0) await sleep(250)
  }
}

// ---------------------------------------------------------------------------------------
// The watchdog: stops the children when the parent dies without stopping them

interface Watchdog { add: (pid: number) => void, remove: (pid: number) => void, close: () => Promise<void> }

// Reads "+pid" / "-pid" lines; when its stdin closes (the parent is gone) it sends SIGTERM to
// every process group still listed, and SIGKILL to what is left after 10 s.
const WATCHDOG_SOURCE = `
process.title = 'order-platform-watchdog'
const groups = new Set(); let buffer = ''
process.stdin.setEncoding('utf8')
process.stdin.on('data', chunk => {
  buffer += chunk
  let i
  while ((i = buffer.indexOf('\\n')) >= 0) {
    const line = buffer.slice(0, i); buffer = buffer.slice(i + 1)
    if (line[0] === '+') groups.add(Number(line.slice(1))); else if (line[0] === '-') groups.delete(Number(line.slice(1)))
  }
})
const signalAll = sig => { for (const g of groups) { try { process.kill(-g, sig) } catch { groups.delete(g) } } }
process.stdin.on('end', () => {
  if (groups.size === 0) process.exit(0)
  signalAll('SIGTERM')
  const started = Date.now()
  const timer = setInterval(() => {
    signalAll(0)
    if (groups.size === 0) process.exit(0)
    if (Date.now() - started > ${STOP_TIMEOUT_MS}) { signalAll('SIGKILL'); process.exit(0) }
  }, 200)
})
`

function startWatchdog (): Watchdog {
  const child = spawn(process.execPath, ['-e', WATCHDOG_SOURCE], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] })
  const stdin = child.stdin!
  stdin.on('error', () => {})
  // Neither the watchdog nor its pipe keeps the parent's event loop alive.
  child.unref()
  ;(stdin as unknown as { unref?: () => void }).unref?.()
  return {
    add: pid => { stdin.write(`+${pid}\n`) },
    remove: pid => { if (stdin.writable) stdin.write(`-${pid}\n`) },
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      // Wait for it to go (kept referenced meanwhile, or the parent could exit first), so
      // nothing is left behind when stop() resolves.
      child.ref()
      const exited = new Promise(resolve => child.once('exit', resolve))
      stdin.end()
      await Promise.race([exited, sleep(2_000)])
      child.unref()
    }
  }
}

// ---------------------------------------------------------------------------------------
// Before starting: ports, HAProxy, migrations

async function assertPortsFree (ports: SystemPorts): Promise<void> {
  const names: Record<keyof SystemPorts, string> = {
    gateway: 'gateway (GATEWAY_PORT)',
    userService: 'user-service (USER_SERVICE_PORT)',
    orderService1: 'order-service-1 (ORDER_SERVICE_1_PORT)',
    orderService2: 'order-service-2 (ORDER_SERVICE_2_PORT)',
    relay: 'relay (RELAY_PORT)',
    processor: 'order-processor (PROCESSOR_PORT)',
    web: 'web (WEB_PORT)',
    haproxyStats: 'HAProxy status page (STATS_PORT)'
  }
  const busy: string[] = []
  for (const key of Object.keys(names) as Array<keyof SystemPorts>) {
    if (!await canListen(ports[key])) busy.push(`${ports[key]} (${names[key]})`)
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

async function findOrInstallHaproxy (log: (source: string, line: string) => void): Promise<string> {
  const found = findExecutable('haproxy')
  if (found) return found
  if (process.getuid?.() !== 0) {
    throw new Error('HAProxy (the gateway) is not installed. Install it with: sudo apt-get install haproxy')
  }
  log('system', 'HAProxy is not installed; installing it with apt-get')
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  await runLogged('apt-get', ['update'], env, log)
  await runLogged('apt-get', ['install', '-y', 'haproxy'], env, log)
  const installed = findExecutable('haproxy')
  if (!installed) throw new Error('apt-get install haproxy succeeded, but no haproxy executable was found')
  return installed
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

async function runLogged (command: string, args: string[], env: NodeJS.ProcessEnv, log: (source: string, line: string) => void): Promise<void> {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
  for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on('line', line => log(command, line))
  const code = await new Promise<number | null>((resolve, reject) => { child.once('error', reject); child.once('close', resolve) })
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} failed with code ${code}`)
}

async function migrate (databaseUrl: string, log: (source: string, line: string) => void): Promise<void> {
  if (await ensureDatabaseExists(databaseUrl)) log('system', `created the database ${new URL(databaseUrl).pathname.slice(1)}`)
  const db = createDatabase<any>({ connectionString: databaseUrl, poolSize: 1, applicationName: 'system-migrate' })
  try {
    for (const { schema, results } of await migrateAllToLatest(db, MIGRATIONS_DIR)) {
      for (const result of results) log('system', `migration ${schema}/${result.migrationName} applied`)
    }
  } finally {
    await db.destroy()
  }
}

// ---------------------------------------------------------------------------------------
// Small pieces

const COLORS: Record<string, number> = {
  'user-service': 36,
  'order-service-1': 32,
  'order-service-2': 92,
  relay: 33,
  'order-processor': 35,
  haproxy: 34,
  system: 1
}
const NAME_WIDTH = Math.max(...Object.keys(COLORS).map(name => name.length))

/** Writes "name | line" to stdout, the name colored when stdout is a terminal. */
export function createPrefixedWriter (stream: NodeJS.WriteStream = process.stdout): (source: string, line: string) => void {
  const color = stream.isTTY === true
  return (source, line) => {
    const name = source.padEnd(NAME_WIDTH)
    stream.write(`${color ? `\x1b[${COLORS[source] ?? 90}m${name}\x1b[0m` : name} | ${line}\n`)
  }
}

function httpGet (url: string, timeoutMs = 1_000): Promise<{ status: number, body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false, timeout: timeoutMs }, response => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => { body += chunk })
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }))
      response.on('error', reject)
    })
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)))
    request.on('error', reject)
  })
}

function once (action: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined
  return async () => { running ??= action(); await running }
}

function definedValues<T extends object> (value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}

function indent (lines: string[], prefix = '  '): string {
  return lines.length > 0 ? lines.map(line => prefix + line).join('\n') : `${prefix}(no output)`
}

async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}
