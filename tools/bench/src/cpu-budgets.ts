import { isPlatformLabel, type CpuReport } from './cpu.ts'
import type { CreatePathFigures } from './create-path.ts'
import type { PipelineFigures } from './pipeline.ts'
import type { TargetCheck } from './report.ts'
import { round } from './stats.ts'

/** The CPU budgets: milliseconds of CPU, all the platform's processes together. */
export const CPU_BUDGETS_MS = { createRequest: 2, pipelineOrder: 4 } as const

/** CPU per request (or order) of the platform's processes: the bench and other people's work left out. */
export interface CpuPerUnit {
  /** What was counted: "POST /orders (processor stopped)", "pipeline order at 175 orders/s". */
  what: string
  count: number
  totalMs: number
  /** label → ms per unit, largest first. */
  byProcess: Record<string, number>
}

export function platformCpuPer (what: string, cpu: CpuReport, count: number): CpuPerUnit | null {
  if (count <= 0) return null
  const msPerUnit = (percent: number) => percent * 10 * cpu.wallS / count
  const byProcess = Object.fromEntries(Object.entries(cpu.byProcess)
    .filter(([label]) => isPlatformLabel(label))
    .map(([label, percent]) => [label, round(msPerUnit(percent), 2)] as const))
  const totalMs = Object.entries(cpu.byProcess).filter(([label]) => isPlatformLabel(label)).reduce((sum, [, percent]) => sum + msPerUnit(percent), 0)
  return { what, count, totalMs: round(totalMs, 2), byProcess }
}

/** POST /orders measured with the processor stopped; null when the pipeline could not be paused. */
export function cpuPerCreateRequest (createPath: CreatePathFigures | null): CpuPerUnit | null {
  if (!createPath?.processorStopped) return null
  return platformCpuPer('POST /orders (processor stopped)', createPath.cpu, createPath.requests)
}

/**
 * The pipeline step at the highest rate it sustained: the cost of an order when the machine is
 * as busy as the pipeline can keep it (at lower rates fixed costs, polls and health checks,
 * weigh more per order).
 */
export function cpuPerPipelineOrder (pipeline: PipelineFigures | null): CpuPerUnit | null {
  const step = pipeline?.steps.filter(s => s.sustained).sort((a, b) => b.rate - a.rate)[0]
  if (!step) return null
  return platformCpuPer(`pipeline order at ${step.rate} orders/s`, step.cpu, step.sent)
}

export function checkCpuBudgets (perCreate: CpuPerUnit | null, perOrder: CpuPerUnit | null): TargetCheck[] {
  const check = (key: string, name: string, unit: CpuPerUnit | null, budget: number): TargetCheck =>
    ({ key, name, value: unit?.totalMs ?? null, comparison: '≤', target: budget, unit: 'ms', pass: unit ? unit.totalMs <= budget : null })
  return [
    check('create-cpu', 'CPU per POST /orders, processor stopped (all processes but the bench)', perCreate, CPU_BUDGETS_MS.createRequest),
    check('pipeline-cpu', 'CPU per order through the pipeline (all processes but the bench)', perOrder, CPU_BUDGETS_MS.pipelineOrder)
  ]
}

/** "3.9 ms: order-service 2.6, postgres 0.9, …" */
export function formatCpuPerUnit (unit: CpuPerUnit): string {
  const parts = Object.entries(unit.byProcess).filter(([, ms]) => ms >= 0.01).map(([label, ms]) => `${label} ${ms}`)
  return `${unit.totalMs} ms (${parts.join(', ')})`
}
