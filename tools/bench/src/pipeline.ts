import type { BenchUser } from './accounts.ts'
import type { CpuReport, ProcessCpuMeter } from './cpu.ts'
import { runPipelineStep, type PipelineStep } from './pipeline-step.ts'
import { StatusSockets } from './status-sockets.ts'

export interface PipelineFigures {
  /** Every step of the search, in the order run, each with the CPU it used. */
  steps: Array<PipelineStep & { cpu: CpuReport }>
  /** The highest offered rate that was sustained (0 when none was). */
  sustainableRate: number
  /** True when the search stopped at --max-rate still sustaining: the real limit is higher. */
  cappedByMaxRate: boolean
  /** The latency run at half the sustainable rate. */
  atHalfRate: (PipelineStep & { cpu: CpuReport }) | null
}

// The search: double from startRate until a step fails, then bisect between the highest rate
// sustained and the lowest that was not, until they are within 15 % of each other.
const MAX_STEPS = 10
const BISECT_UNTIL_RATIO = 1.15
const MIN_RATE = 2

/**
 * Finds the highest rate of orders the whole pipeline (create → relay → broker → processor →
 * two status changes → WebSocket) sustains without its backlog growing, then measures its
 * latency at half that rate. Bounded: at most MAX_STEPS steps of `stepS` (each followed by a
 * drain of at most 10 s), then one run of `durationS`.
 */
export async function measurePipeline (options: {
  gatewayUrl: string
  users: BenchUser[]
  meter: ProcessCpuMeter
  startRate: number
  maxRate: number
  stepS: number
  durationS: number
  log: (line: string) => void
}): Promise<PipelineFigures> {
  const sockets = await StatusSockets.open(options.gatewayUrl, options.users)
  try {
    const step = async (rate: number, durationS: number) => {
      options.meter.start()
      const result = await runPipelineStep({ gatewayUrl: options.gatewayUrl, users: options.users, sockets, rate, durationS })
      const cpu = options.meter.stop()
      options.log(`  ${String(rate).padStart(5)} orders/s for ${durationS} s: ${result.verdict} (completions ${result.completionRate}/s, p50 ${result.p50Ms} ms = POST ${result.medianPostMs} + to processing ${result.medianToProcessingMs} + to final ${result.medianToFinalMs}, p99 ${result.p99Ms} ms)`)
      return { ...result, cpu }
    }

    const steps: PipelineFigures['steps'] = []
    let highestSustained = 0
    let lowestFailed = Infinity
    let rate = Math.min(Math.round(options.startRate), options.maxRate)
    for (let i = 0; i < MAX_STEPS; i++) {
      const result = await step(rate, options.stepS)
      steps.push(result)
      if (result.sustained) highestSustained = Math.max(highestSustained, rate)
      else lowestFailed = Math.min(lowestFailed, rate)

      let next: number
      if (lowestFailed === Infinity) {
        if (highestSustained >= options.maxRate) break
        next = Math.min(rate * 2, options.maxRate)
      } else if (highestSustained === 0) {
        next = Math.floor(rate / 2)
        if (next < MIN_RATE) break
      } else {
        if (lowestFailed / highestSustained <= BISECT_UNTIL_RATIO) break
        next = Math.round((highestSustained + lowestFailed) / 2)
      }
      if (next === rate) break
      rate = next
    }

    let atHalfRate: PipelineFigures['atHalfRate'] = null
    if (highestSustained > 0) {
      const half = Math.max(1, Math.round(highestSustained / 2))
      options.log(`  latency at half the sustainable rate (${half} orders/s, ${options.durationS} s):`)
      atHalfRate = await step(half, options.durationS)
    }
    return {
      steps,
      sustainableRate: highestSustained,
      cappedByMaxRate: highestSustained >= options.maxRate,
      atHalfRate
    }
  } finally {
    await sockets.close()
  }
}
