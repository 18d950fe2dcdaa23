import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import type { SystemPorts } from '@orders/system'

/** CPU used during one measurement, per kind of process, in % of one core (2 cores = 200 %). */
export interface CpuReport {
  wallS: number
  /** label → % of one core, largest first. */
  byProcess: Record<string, number>
  /** The whole machine (every core), from /proc/stat: busy and waiting for I/O, in % of one core. */
  machineBusy: number
  machineIowait: number
  cores: number
}

// Linux reports process times in clock ticks; 100 per second on every common configuration.
const TICKS_PER_SECOND = 100
const SAMPLE_INTERVAL_MS = 500

/**
 * Samples /proc every half second while a measurement runs and adds up the CPU time of every
 * process, labelled by what it is: the platform's own processes are found by the ports they
 * listen on, PostgreSQL backends by the database they serve, the rest by name. Sampling (rather
 * than a before/after pair) keeps the work of processes that exit meanwhile: pgbench and its
 * backends, autocannon's sockets' backends.
 */
export class ProcessCpuMeter {
  readonly #labelOf: (pid: number) => string
  #ticks = new Map<number, number>()
  #totals = new Map<string, number>()
  #machineStart: MachineTicks | undefined
  #startedAt = 0
  #timer: NodeJS.Timeout | undefined

  constructor (labelOf: (pid: number) => string) {
    this.#labelOf = labelOf
  }

  start (): void {
    this.#ticks = readProcessTicks()
    this.#totals = new Map()
    this.#machineStart = readMachineTicks()
    this.#startedAt = Date.now()
    this.#timer = setInterval(() => { this.#sample() }, SAMPLE_INTERVAL_MS)
    this.#timer.unref()
  }

  stop (): CpuReport {
    clearInterval(this.#timer)
    this.#sample()
    const wallS = (Date.now() - this.#startedAt) / 1000
    const machineEnd = readMachineTicks()
    const machine = this.#machineStart!
    const percent = (ticks: number) => round1(100 * ticks / TICKS_PER_SECOND / wallS)
    const byProcess = Object.fromEntries([...this.#totals]
      .map(([label, ticks]) => [label, percent(ticks)] as const)
      .filter(([, value]) => value >= 0.5)
      .sort((a, b) => b[1] - a[1]))
    return {
      wallS: round1(wallS),
      byProcess,
      machineBusy: percent(machineEnd.busy - machine.busy),
      machineIowait: percent(machineEnd.iowait - machine.iowait),
      cores: machineEnd.cores
    }
  }

  #sample (): void {
    const now = readProcessTicks()
    for (const [pid, ticks] of now) {
      // A process born since the last sample used all of its time inside the window.
      const delta = ticks - (this.#ticks.get(pid) ?? 0)
      if (delta <= 0) continue
      const label = this.#labelOf(pid)
      this.#totals.set(label, (this.#totals.get(label) ?? 0) + delta)
    }
    this.#ticks = now
  }
}

/**
 * Names every process the way the report groups them. The platform's processes are the ones
 * listening on its ports; a PostgreSQL backend is told apart by its database, so other people's
 * test databases on the shared server show as "other".
 */
export function createProcessLabeller (options: { ports: SystemPorts, databaseNames: ReadonlySet<string> }): (pid: number) => string {
  const byPort: Array<[number, string]> = [
    [options.ports.gateway, 'haproxy'],
    [options.ports.userService, 'user-service'],
    [options.ports.orderService1, 'order-service (2 replicas)'],
    [options.ports.orderService2, 'order-service (2 replicas)'],
    [options.ports.relay, 'relay'],
    [options.ports.processor, 'order-processor'],
    [options.ports.web, 'web app']
  ]
  let platform = new Map<number, string>()
  let platformFoundAt = 0
  const cache = new Map<number, string>()
  return pid => {
    // Processes restart rarely; the port owners are looked up again at most every 10 s.
    if (Date.now() - platformFoundAt > 10_000) {
      platform = pidsListeningOn(byPort)
      platformFoundAt = Date.now()
      cache.clear()
    }
    const known = platform.get(pid)
    if (known) return known
    if (pid === process.pid) return 'bench (autocannon, WebSocket clients)'
    let label = cache.get(pid)
    if (label === undefined) {
      label = labelByCommand(pid, options.databaseNames)
      cache.set(pid, label)
    }
    return label
  }
}

/**
 * Labels of work that is not the platform's: the bench itself (the load generator), pgbench,
 * other people's databases, HAProxies, Node processes and everything else on the shared machine.
 * What is left (the services, PostgreSQL for this database and its background work, RabbitMQ,
 * this system's HAProxy) is what an order costs. RabbitMQ is one server for every vhost on the
 * machine, so its figure includes other people's traffic while they test.
 */
export function isPlatformLabel (label: string): boolean {
  return !/^other|\(other databases\)|\(another one\)|^bench|^pgbench|^before/.test(label)
}

function labelByCommand (pid: number, databaseNames: ReadonlySet<string>): string {
  const cmdline = readText(`/proc/${pid}/cmdline`).split('\0').filter(Boolean)
  const comm = readText(`/proc/${pid}/comm`).trim()
  const first = cmdline[0] ?? ''
  if (comm === 'postgres' || first.startsWith('postgres')) {
    // "postgres: 15/main: <user> <database> <client> <state>" for a backend.
    const backend = /^postgres: [^:]+: (\S+) (\S+) /.exec(first)
    if (!backend) return 'postgres (background: wal writer, checkpointer, …)'
    return databaseNames.has(backend[2]!) ? 'postgres (this database)' : 'postgres (other databases)'
  }
  if (comm === 'pgbench') return 'pgbench'
  if (comm === 'beam.smp' || comm.startsWith('erl')) return 'rabbitmq'
  if (comm === 'haproxy') return 'haproxy (another one)'
  if (comm === 'node' || comm.startsWith('node')) return 'other node processes (tests, tsc, …)'
  return 'other'
}

type ProcessTicks = Map<number, number>

function readProcessTicks (): ProcessTicks {
  const ticks: ProcessTicks = new Map()
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry)
    if (!Number.isInteger(pid)) continue
    const stat = readText(`/proc/${pid}/stat`)
    // The command name is in parentheses and may hold spaces; the fields after it are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const utime = Number(fields[11])
    const stime = Number(fields[12])
    if (Number.isFinite(utime) && Number.isFinite(stime)) ticks.set(pid, utime + stime)
  }
  return ticks
}

interface MachineTicks { busy: number, iowait: number, cores: number }

function readMachineTicks (): MachineTicks {
  const lines = readText('/proc/stat').split('\n')
  // cpu  user nice system idle iowait irq softirq steal ...
  const [user, nice, system, , iowait, irq, softirq, steal] = (lines[0] ?? '').trim().split(/\s+/).slice(1).map(Number)
  return {
    busy: (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0),
    iowait: iowait ?? 0,
    cores: lines.filter(line => /^cpu\d+ /.test(line)).length
  }
}

/** pid → label for the processes listening on the given TCP ports (127.0.0.1 or any address). */
export function pidsListeningOn (ports: Array<[number, string]>): Map<number, string> {
  const labelByInode = new Map<string, string>()
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readText(file).split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/)
      // st 0A = LISTEN; local_address is hex "addr:port"; the inode is the 10th field.
      if (fields[3] !== '0A') continue
      const port = parseInt(fields[1]?.split(':')[1] ?? '', 16)
      const label = ports.find(([p]) => p === port)?.[1]
      if (label && fields[9]) labelByInode.set(fields[9], label)
    }
  }
  const pids = new Map<number, string>()
  if (labelByInode.size === 0) return pids
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry)
    if (!Number.isInteger(pid)) continue
    let fds: string[]
    try { fds = readdirSync(`/proc/${pid}/fd`) } catch { continue }
    for (const fd of fds) {
      let target: string
      try { target = readlinkSync(`/proc/${pid}/fd/${fd}`) } catch { continue }
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1]
      const label = inode && labelByInode.get(inode)
      if (label) { pids.set(pid, label); break }
    }
  }
  return pids
}

function readText (file: string): string {
  try { return readFileSync(file, 'utf8') } catch { return '' }
}

function round1 (value: number): number {
  return Math.round(value * 10) / 10
}
