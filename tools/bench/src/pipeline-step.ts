import http from 'node:http'
import { performance } from 'node:perf_hooks'
import { ORDER_BODY, type BenchUser } from './accounts.ts'
import type { StatusSockets } from './status-sockets.ts'
import { median, percentile, round } from './stats.ts'

/** One step of offered load: what was sent, what came through, and whether the pipeline kept up. */
export interface PipelineStep {
  /** Orders offered per second. */
  rate: number
  durationS: number
  sent: number
  /** Answered 201. */
  accepted: number
  /** Answered anything else, or not at all. */
  rejected: number
  /** Final statuses seen per second during the second half of the step (steady state). */
  completionRate: number
  /** Orders sent and neither refused nor final when the step's sending ended. */
  backlogAtEnd: number
  /** Accepted orders still not final when the drain after the step gave up. */
  neverCompleted: number
  /** From the POST's scheduled start to the final status on the WebSocket, over every order that got there. */
  p50Ms: number
  p95Ms: number
  p99Ms: number
  maxMs: number
  /**
   * Where the time goes, medians over the orders that completed: the POST until its 201, from
   * the 201 until `processing` is seen on the WebSocket (commit, relay, broker, processor, PATCH),
   * and from `processing` until the final status is seen (payment, PATCH, relay, broker, hub).
   */
  medianPostMs: number
  medianToProcessingMs: number
  medianToFinalMs: number
  /** Median latency of the orders sent in the second quarter and in the last quarter of the step. */
  medianSecondQuarterMs: number
  medianLastQuarterMs: number
  sustained: boolean
  /** Why not, when not. */
  verdict: string
}

interface OfferedOrder {
  scheduledAt: number
  answeredAt?: number
  status?: number
  processingAt?: number
  completedAt?: number
}

// Criteria for "sustained", see doc/performance.md.
const COMPLETION_RATE_TOLERANCE = 0.05
// At a few orders per second one order more or less in the window is already 5 %.
const COMPLETION_SLACK_ORDERS = 2
const BACKLOG_ALLOWANCE_S = 0.25
const BACKLOG_ALLOWANCE_MIN = 5
const REJECTED_TOLERANCE = 0.01
const LATENCY_GROWTH_FACTOR = 1.5
const LATENCY_GROWTH_SLACK_MS = 20
const DRAIN_TIMEOUT_MS = 10_000
const REQUEST_TIMEOUT_MS = 10_000
const TICK_MS = 2

/**
 * Offers orders at a fixed rate for a fixed time, open loop: each POST leaves at its scheduled
 * moment whether or not earlier ones were answered, so a slow system meets a growing queue rather
 * than a politely waiting client, and latency counts from the scheduled moment (no coordinated
 * omission). Afterwards waits (bounded) until every accepted order is final, so the next step
 * starts on an empty pipeline.
 */
export async function runPipelineStep (options: {
  gatewayUrl: string
  users: BenchUser[]
  sockets: StatusSockets
  rate: number
  durationS: number
}): Promise<PipelineStep> {
  const { rate, durationS, users, sockets } = options
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })
  const url = new URL(`${options.gatewayUrl}/orders`)
  const total = Math.max(1, Math.round(rate * durationS))
  const intervalMs = 1000 / rate
  const orders: OfferedOrder[] = []
  const byId = new Map<string, OfferedOrder>()
  // A status can arrive before the POST's answer has been read.
  const earlyFinals = new Map<string, number>()
  const earlyProcessing = new Map<string, number>()
  let unresolved = 0
  let onResolved: () => void = () => {}

  sockets.onStatus = (id, status, at) => {
    if (status !== 'processing') return
    const order = byId.get(id)
    if (order) order.processingAt ??= at
    else earlyProcessing.set(id, at)
  }
  sockets.onFinal = (id, _status, at) => {
    const order = byId.get(id)
    if (!order) { earlyFinals.set(id, at); return }
    if (order.completedAt !== undefined) return
    order.completedAt = at
    unresolved--
    onResolved()
  }

  // A refused or failed POST is settled at once; an accepted one when its final status arrives.
  const refuse = (order: OfferedOrder, status: number) => {
    if (order.status !== undefined) return
    order.status = status
    order.answeredAt = performance.now()
    unresolved--
    onResolved()
  }
  const accept = (order: OfferedOrder, body: string) => {
    let id: string
    try { id = (JSON.parse(body) as { id: string }).id } catch { refuse(order, 0); return }
    order.status = 201
    order.answeredAt = performance.now()
    byId.set(id, order)
    order.processingAt = earlyProcessing.get(id)
    earlyProcessing.delete(id)
    const early = earlyFinals.get(id)
    if (early !== undefined) {
      earlyFinals.delete(id)
      order.completedAt = early
      unresolved--
      onResolved()
    }
  }
  const send = (user: BenchUser, order: OfferedOrder) => {
    const request = http.request(url, {
      method: 'POST',
      agent,
      timeout: REQUEST_TIMEOUT_MS,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` }
    }, response => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('error', () => { refuse(order, 0) })
      response.on('end', () => {
        if (response.statusCode === 201) accept(order, Buffer.concat(chunks).toString('utf8'))
        else refuse(order, response.statusCode ?? 0)
      })
    })
    request.on('timeout', () => { request.destroy(new Error('timeout')) })
    request.on('error', () => { refuse(order, 0) })
    request.end(ORDER_BODY)
  }

  const startedAt = performance.now()
  const endsAt = startedAt + durationS * 1000
  await new Promise<void>(resolve => {
    const timer = setInterval(() => {
      const now = performance.now()
      while (orders.length < total && startedAt + orders.length * intervalMs <= now) {
        const order: OfferedOrder = { scheduledAt: startedAt + orders.length * intervalMs }
        orders.push(order)
        unresolved++
        send(users[orders.length % users.length]!, order)
      }
      if (orders.length >= total && now >= endsAt) { clearInterval(timer); resolve() }
    }, TICK_MS)
  })
  const end = performance.now()
  const backlogAtEnd = orders.filter(o => !(o.completedAt !== undefined && o.completedAt <= end) && !(o.status !== undefined && o.status !== 201 && (o.answeredAt ?? Infinity) <= end)).length

  // Drain: until every order is final or refused, within a bound.
  await new Promise<void>(resolve => {
    const timer = setTimeout(done, DRAIN_TIMEOUT_MS)
    function done (): void { clearTimeout(timer); resolve() }
    onResolved = () => { if (unresolved <= 0) done() }
    onResolved()
  })
  sockets.onFinal = () => {}
  sockets.onStatus = () => {}
  agent.destroy()

  const halfway = startedAt + (durationS * 1000) / 2
  const completedInSecondHalf = orders.filter(o => o.completedAt !== undefined && o.completedAt >= halfway && o.completedAt <= end).length
  const completionRate = completedInSecondHalf / ((end - halfway) / 1000)
  const accepted = orders.filter(o => o.status === 201).length
  const rejected = orders.length - accepted
  const latencyOf = (o: OfferedOrder) => (o.completedAt ?? Infinity) - o.scheduledAt
  const latencies = orders.filter(o => o.completedAt !== undefined).map(latencyOf).sort((a, b) => a - b)
  const neverCompleted = orders.filter(o => o.status === 201 && o.completedAt === undefined).length
  const quarter = (q: number) => orders.filter(o => o.status === 201 && o.scheduledAt >= startedAt + (q - 1) * durationS * 250 && o.scheduledAt < startedAt + q * durationS * 250).map(latencyOf)
  const completed = orders.filter(o => o.completedAt !== undefined && o.answeredAt !== undefined && o.processingAt !== undefined)
  const medianPostMs = median(completed.map(o => o.answeredAt! - o.scheduledAt))
  const medianToProcessingMs = median(completed.map(o => o.processingAt! - o.answeredAt!))
  const medianToFinalMs = median(completed.map(o => o.completedAt! - o.processingAt!))
  const medianSecondQuarterMs = median(quarter(2))
  const medianLastQuarterMs = median(quarter(4))

  const problems: string[] = []
  if (rejected > REJECTED_TOLERANCE * orders.length) problems.push(`${rejected} of ${orders.length} POSTs not accepted`)
  const halfWindowS = (end - halfway) / 1000
  if (completionRate < (1 - COMPLETION_RATE_TOLERANCE) * rate - COMPLETION_SLACK_ORDERS / halfWindowS) problems.push(`completions ${round(completionRate)}/s < ${Math.round((1 - COMPLETION_RATE_TOLERANCE) * 100)} % of ${rate}/s`)
  const allowance = Math.ceil(BACKLOG_ALLOWANCE_S * rate + BACKLOG_ALLOWANCE_MIN)
  if (backlogAtEnd > allowance) problems.push(`${backlogAtEnd} orders not final at the end of the step (allowance ${allowance})`)
  if (!(medianLastQuarterMs <= LATENCY_GROWTH_FACTOR * medianSecondQuarterMs + LATENCY_GROWTH_SLACK_MS)) {
    problems.push(`latency growing: median ${fmt(medianSecondQuarterMs)} → ${fmt(medianLastQuarterMs)} ms`)
  }
  if (neverCompleted > 0) problems.push(`${neverCompleted} accepted orders not final ${DRAIN_TIMEOUT_MS / 1000} s after the step`)
  if (sockets.unexpectedCloses > 0) problems.push(`${sockets.unexpectedCloses} status WebSockets closed`)

  return {
    rate,
    durationS,
    sent: orders.length,
    accepted,
    rejected,
    completionRate: round(completionRate),
    backlogAtEnd,
    neverCompleted,
    p50Ms: round(percentile(latencies, 50)),
    p95Ms: round(percentile(latencies, 95)),
    p99Ms: round(percentile(latencies, 99)),
    maxMs: round(latencies.at(-1) ?? Number.NaN),
    medianPostMs: round(medianPostMs),
    medianToProcessingMs: round(medianToProcessingMs),
    medianToFinalMs: round(medianToFinalMs),
    medianSecondQuarterMs: round(medianSecondQuarterMs),
    medianLastQuarterMs: round(medianLastQuarterMs),
    sustained: problems.length === 0,
    verdict: problems.length === 0 ? 'sustained' : problems.join('; ')
  }
}

function fmt (ms: number): string {
  return Number.isFinite(ms) ? String(Math.round(ms)) : '∞'
}
