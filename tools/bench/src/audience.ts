import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import WebSocket from 'ws'
import type { SystemPorts } from '@orders/system'
import { createBenchUsers, type BenchUser } from './accounts.ts'
import { isPlatformLabel, pidsListeningOn, type CpuReport, type ProcessCpuMeter } from './cpu.ts'
import { runPipelineStep, type PipelineStep } from './pipeline-step.ts'
import type { TargetCheck } from './report.ts'
import { median, round } from './stats.ts'
import { StatusSockets } from './status-sockets.ts'

/**
 * `--only audience`: does a large audience of open WebSockets cost the platform anything while
 * nothing happens to its orders? 5,000 sockets (the issue's figure) across the two order-service
 * replicas through the gateway, held by users whose orders do not change, measured in rounds
 * that alternate with rounds without them: memory per socket, idle CPU, and the p99 of a
 * watched order's status reaching its owner, at a fixed moderate rate.
 */

export const AUDIENCE_SOCKETS = 5_000
// The order-service allows 20 sockets per user (MAX_SOCKETS_PER_USER); 17 each leaves room for
// the leases of a round's closed sockets that Redis has not dropped yet.
const AUDIENCE_USERS = 300
const WATCHERS = 4
// Orders per second during each latency run: well below what the pipeline sustains, so the
// figure is the path's latency, not a queue's.
const LATENCY_RATE = 50
// The gateway refuses a 101st connection from one address (haproxy.cfg); the audience comes from
// 127.0.0.2, 127.0.0.3, …, 80 sockets each (all loopback).
const SOCKETS_PER_ADDRESS = 80
const OPENING_CONCURRENCY = 100
const REGISTRATION_CONCURRENCY = 16
const SETTLE_TIMEOUT_MS = 60_000
const DEFAULT_P99_TOLERANCE = 1.25

export interface AudienceRound {
  kind: 'baseline' | 'audience'
  /** Audience sockets open during the round (0 for a baseline). */
  sockets: number
  /** Seconds to open them. */
  openS: number | null
  /** Sockets refused or failed while opening, and audience sockets that closed during the round. */
  openFailures: number
  unexpectedCloses: number
  /** Sockets each replica held (its order_service_websocket_connections), watchers included. */
  socketsByReplica: number[]
  /** RSS growth from before the sockets opened to the end of the idle window, kB. */
  rssDeltaKb: { orderService: number, haproxy: number }
  /** The idle window: nothing but heartbeats (and the audience's sockets) going on. */
  idleCpu: CpuReport
  /** % of one core, the platform's processes together (the bench excluded). */
  idlePlatformCpu: number
  latency: PipelineStep
  /** Status events the replicas took from their queues during the latency run (both together). */
  statusEventsReceived: number
}

export interface AudienceFigures {
  sockets: number
  users: number
  rounds: AudienceRound[]
  /**
   * Memory each audience socket costs, kB: the order-service replicas together, and HAProxy. From
   * the first audience round: later ones start while the garbage of the one before is being given
   * back, so their deltas are smaller or negative.
   */
  kbPerSocket: { orderService: number, haproxy: number }
  /** Medians over the rounds of each kind. */
  idlePlatformCpu: { baseline: number, audience: number }
  p99Ms: { baseline: number, audience: number }
  p99Ratio: number
  p99Tolerance: number
}

/** Alternating rounds, baseline first: `pairs` of each. */
export async function measureAudience (options: {
  gatewayUrl: string
  ports: SystemPorts
  meter: ProcessCpuMeter
  runId: string
  pairs: number
  idleS: number
  latencyS: number
  log: (line: string) => void
  notes: string[]
}): Promise<AudienceFigures> {
  const { log } = options
  const replicaPorts = [options.ports.orderService1, options.ports.orderService2]
  ensureDescriptors(process.pid, AUDIENCE_SOCKETS + 2_000, 'the bench')
  for (const pid of platformPids(options.ports, 'order-service')) ensureDescriptors(pid, AUDIENCE_SOCKETS + 2_000, `order-service (pid ${pid})`)

  log(`audience: registering ${AUDIENCE_USERS} users for ${AUDIENCE_SOCKETS} sockets and ${WATCHERS} who watch their orders`)
  const audience = await registerUsers(options.gatewayUrl, `${options.runId}-audience`, AUDIENCE_USERS)
  const watchers = await registerUsers(options.gatewayUrl, `${options.runId}-watchers`, WATCHERS)
  const watching = await StatusSockets.open(options.gatewayUrl, watchers)
  const rounds: AudienceRound[] = []
  try {
    for (let pair = 0; pair < options.pairs; pair++) {
      for (const kind of ['baseline', 'audience'] as const) {
        log(`audience: round ${rounds.length + 1} of ${options.pairs * 2}, ${kind === 'audience' ? `${AUDIENCE_SOCKETS} sockets open` : 'no audience'}`)
        const round = await measureRound(kind)
        rounds.push(round)
        log(`  ${round.socketsByReplica.join(' + ')} sockets; order-service RSS ${signed(round.rssDeltaKb.orderService)} kB; idle platform CPU ${round.idlePlatformCpu} %; ` +
          `p99 ${round.latency.p99Ms} ms at ${LATENCY_RATE} orders/s; ${round.statusEventsReceived} status events received`)
      }
    }
  } finally {
    await watching.close()
  }

  async function measureRound (kind: 'baseline' | 'audience'): Promise<AudienceRound> {
    const before = rssKb(options.ports)
    let crowd: Crowd | undefined
    if (kind === 'audience') {
      crowd = await openCrowd(options.gatewayUrl, audience, AUDIENCE_SOCKETS)
      await replicasHold(replicaPorts, WATCHERS + crowd.open)
    }
    options.meter.start()
    await sleep(options.idleS * 1000)
    const idleCpu = options.meter.stop()
    const after = rssKb(options.ports)
    const socketsByReplica = await Promise.all(replicaPorts.map(async port => (await replicaMetrics(port)).sockets))
    const receivedBefore = await statusEventsReceived(replicaPorts)
    const latency = await runPipelineStep({ gatewayUrl: options.gatewayUrl, users: watchers, sockets: watching, rate: LATENCY_RATE, durationS: options.latencyS })
    const received = await statusEventsReceived(replicaPorts) - receivedBefore
    if (crowd) {
      await crowd.close()
      await replicasHold(replicaPorts, WATCHERS)
    }
    return {
      kind,
      sockets: crowd?.open ?? 0,
      openS: crowd?.openS ?? null,
      openFailures: crowd?.failures ?? 0,
      unexpectedCloses: crowd?.unexpectedCloses ?? 0,
      socketsByReplica,
      rssDeltaKb: { orderService: after.orderService - before.orderService, haproxy: after.haproxy - before.haproxy },
      idleCpu,
      idlePlatformCpu: round(Object.entries(idleCpu.byProcess).filter(([label]) => isPlatformLabel(label)).reduce((sum, [, value]) => sum + value, 0), 1),
      latency,
      statusEventsReceived: received
    }
  }

  const of = (kind: AudienceRound['kind']) => rounds.filter(r => r.kind === kind)
  const crowds = of('audience').filter(r => r.sockets > 0)
  const tolerance = Number(process.env.AUDIENCE_P99_TOLERANCE ?? DEFAULT_P99_TOLERANCE)
  const p99 = { baseline: median(of('baseline').map(r => r.latency.p99Ms)), audience: median(of('audience').map(r => r.latency.p99Ms)) }
  for (const r of crowds) {
    if (r.openFailures > 0) options.notes.push(`audience: ${r.openFailures} of ${AUDIENCE_SOCKETS} sockets could not be opened in one round`)
    if (r.unexpectedCloses > 0) options.notes.push(`audience: ${r.unexpectedCloses} audience sockets closed during a round`)
  }
  return {
    sockets: AUDIENCE_SOCKETS,
    users: AUDIENCE_USERS,
    rounds,
    kbPerSocket: {
      orderService: round((crowds[0]?.rssDeltaKb.orderService ?? Number.NaN) / (crowds[0]?.sockets ?? Number.NaN), 1),
      haproxy: round((crowds[0]?.rssDeltaKb.haproxy ?? Number.NaN) / (crowds[0]?.sockets ?? Number.NaN), 1)
    },
    idlePlatformCpu: { baseline: median(of('baseline').map(r => r.idlePlatformCpu)), audience: median(of('audience').map(r => r.idlePlatformCpu)) },
    p99Ms: p99,
    p99Ratio: round(p99.audience / p99.baseline, 2),
    p99Tolerance: Number.isFinite(tolerance) && tolerance > 0 ? tolerance : DEFAULT_P99_TOLERANCE
  }
}

/** The scaling check: the audience's p99 against the baseline's, same run. */
export function audienceChecks (figures: AudienceFigures | null): TargetCheck[] {
  if (figures === null) return []
  const value = Number.isFinite(figures.p99Ratio) ? figures.p99Ratio : null
  return [{
    key: 'audience-p99',
    name: `a watched order's p99 with ${figures.sockets} sockets open ÷ without`,
    value,
    comparison: '≤',
    target: figures.p99Tolerance,
    unit: '×',
    pass: value === null ? null : value <= figures.p99Tolerance
  }]
}

/** Lines for the report: the headline figures, then one per round. */
export function formatAudience (figures: AudienceFigures | null): string[] {
  if (figures === null) return []
  const lines = [
    `Audience: ${figures.sockets} WebSockets of ${figures.users} users through the gateway, alternating rounds with and without them:`,
    `  memory per socket: order-service ${figures.kbPerSocket.orderService} kB (both replicas), HAProxy ${figures.kbPerSocket.haproxy} kB`,
    `  idle CPU of the platform: ${figures.idlePlatformCpu.audience} % with them, ${figures.idlePlatformCpu.baseline} % without (% of one core, medians)`,
    `  p99 of a watched order, create → completed on its owner's socket: ${figures.p99Ms.audience} ms with them, ${figures.p99Ms.baseline} ms without: ×${figures.p99Ratio} (at most ×${figures.p99Tolerance})`
  ]
  for (const [i, r] of figures.rounds.entries()) {
    lines.push(`  round ${i + 1} ${r.kind.padEnd(8)}: ${r.socketsByReplica.join('+')} sockets${r.openS === null ? '' : ` (opened in ${r.openS} s)`}, RSS ${signed(r.rssDeltaKb.orderService)} kB order-service / ${signed(r.rssDeltaKb.haproxy)} kB HAProxy, ` +
      `idle ${r.idlePlatformCpu} %, p50 ${r.latency.p50Ms} / p99 ${r.latency.p99Ms} ms, ${r.statusEventsReceived} status events received for ${r.latency.accepted} orders`)
  }
  return lines
}

function signed (value: number): string {
  return value < 0 ? `−${-value}` : `+${value}`
}

interface Crowd { open: number, failures: number, openS: number, readonly unexpectedCloses: number, close: () => Promise<void> }

/** `count` sockets spread evenly over `users`, from one loopback address per SOCKETS_PER_ADDRESS. */
async function openCrowd (gatewayUrl: string, users: BenchUser[], count: number): Promise<Crowd> {
  const url = gatewayUrl.replace(/^http/, 'ws')
  const sockets: WebSocket[] = []
  let failures = 0
  let closing = false
  let unexpectedCloses = 0
  const startedAt = Date.now()
  let next = 0
  const openOne = async (i: number) => {
    const user = users[i % users.length]!
    const socket = new WebSocket(`${url}/orders/ws?access_token=${user.token}`, { localAddress: `127.0.0.${2 + Math.floor(i / SOCKETS_PER_ADDRESS)}` })
    const opened = await new Promise<boolean>(resolve => {
      socket.once('open', () => { resolve(true) })
      socket.once('unexpected-response', () => { resolve(false) })
      socket.once('error', () => { resolve(false) })
    })
    socket.on('error', () => {})
    if (!opened) { failures++; socket.terminate(); return }
    socket.once('close', () => { if (!closing) unexpectedCloses++ })
    sockets.push(socket)
  }
  await Promise.all(Array.from({ length: OPENING_CONCURRENCY }, async () => {
    while (next < count) await openOne(next++)
  }))
  return {
    open: sockets.length,
    failures,
    openS: round((Date.now() - startedAt) / 1000, 1),
    get unexpectedCloses () { return unexpectedCloses },
    async close () {
      closing = true
      await Promise.all(sockets.map(async socket => {
        if (socket.readyState === WebSocket.CLOSED) return
        const closed = new Promise(resolve => socket.once('close', resolve))
        socket.close()
        await closed
      }))
    }
  }
}

async function registerUsers (gatewayUrl: string, runId: string, count: number): Promise<BenchUser[]> {
  const users: BenchUser[] = []
  for (let start = 0; start < count; start += REGISTRATION_CONCURRENCY) {
    users.push(...await createBenchUsers(gatewayUrl, `${runId}-${start}`, Math.min(REGISTRATION_CONCURRENCY, count - start), 0))
  }
  return users
}

/** Until the replicas hold `count` sockets together (opening and closing go through the gateway and take a moment). */
async function replicasHold (ports: number[], count: number): Promise<void> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS
  for (;;) {
    const held = (await Promise.all(ports.map(async port => (await replicaMetrics(port)).sockets))).reduce((a, b) => a + b, 0)
    if (held === count) return
    if (Date.now() > deadline) throw new Error(`the order-service replicas hold ${held} sockets, not ${count}, ${SETTLE_TIMEOUT_MS / 1000} s on`)
    await sleep(200)
  }
}

async function statusEventsReceived (ports: number[]): Promise<number> {
  return (await Promise.all(ports.map(async port => (await replicaMetrics(port)).statusEventsReceived))).reduce((a, b) => a + b, 0)
}

/** A replica's own /metrics (straight to its port: the gateway does not serve /metrics). */
async function replicaMetrics (port: number): Promise<{ sockets: number, statusEventsReceived: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5_000) })).text()
  const value = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? 0)
  return { sockets: value('order_service_websocket_connections'), statusEventsReceived: value('order_service_status_events_received_total') }
}

function platformPids (ports: SystemPorts, label: 'order-service' | 'haproxy'): number[] {
  const found = pidsListeningOn([[ports.orderService1, 'order-service'], [ports.orderService2, 'order-service'], [ports.gateway, 'haproxy']])
  return [...found].filter(([, l]) => l === label).map(([pid]) => pid)
}

function rssKb (ports: SystemPorts): { orderService: number, haproxy: number } {
  const sum = (pids: number[]) => pids.reduce((total, pid) => total + Number(/^VmRSS:\s+(\d+) kB$/m.exec(readText(`/proc/${pid}/status`))?.[1] ?? 0), 0)
  return { orderService: sum(platformPids(ports, 'order-service')), haproxy: sum(platformPids(ports, 'haproxy')) }
}

/**
 * Every socket is a file descriptor, in the bench and in a replica. Raises a process's soft
 * limit up to its hard one (`prlimit`, as its own user may); beyond that only root can help.
 */
function ensureDescriptors (pid: number, needed: number, what: string): void {
  const limits = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(readText(`/proc/${pid}/limits`))
  if (!limits) return
  const soft = limits[1] === 'unlimited' ? Infinity : Number(limits[1])
  const hard = limits[2] === 'unlimited' ? Infinity : Number(limits[2])
  if (soft >= needed) return
  if (hard < needed) throw new Error(`${what} may open ${hard} files at most (ulimit -Hn); ${needed} are needed for ${AUDIENCE_SOCKETS} sockets`)
  const raised = spawnSync('prlimit', ['--pid', String(pid), `--nofile=${needed}:${limits[2]}`], { encoding: 'utf8' })
  if (raised.status !== 0) throw new Error(`could not raise the open-file limit of ${what} to ${needed}: ${raised.stderr || raised.error?.message}`)
}

function readText (file: string): string {
  try { return readFileSync(file, 'utf8') } catch { return '' }
}
