import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { CpuReport } from './cpu.ts'
import { checkCpuBudgets, formatCpuPerUnit, type CpuPerUnit } from './cpu-budgets.ts'
import type { CreatePathFigures } from './create-path.ts'
import type { HttpFigures } from './http-load.ts'
import type { BaselineFigures } from './pgbench.ts'
import type { PipelineFigures } from './pipeline.ts'
import type { PipelineStep } from './pipeline-step.ts'
import { formatGrowth, growthTargets, type GrowthFigures } from './growth.ts'
import { round } from './stats.ts'
import { formatAudience, type AudienceFigures } from './audience.ts'

/** What one measurement cost the machine while it ran. */
export interface Cost { cpu: CpuReport }

export interface BenchResult {
  startedAt: string
  finishedAt: string
  /** "started by the bench" (PROCESSING_DELAY_MS=0, LOG_LEVEL=warn) or "already running". */
  system: string
  options: { durationS: number, connections: number, stepS: number, quick: boolean, maxRate: number, only: string[] }
  /** One second before any load: how busy the shared machine already was. */
  idleCpu: CpuReport
  baseline: (BaselineFigures & Cost) | null
  /** GET /orders/{id}, GET /orders?limit=20, POST /login. */
  http: Array<HttpFigures & Cost>
  /** POST /orders, with the processor stopped when the bench started the system. */
  createPath: CreatePathFigures | null
  pipeline: PipelineFigures | null
  /** The same routes on a nearly empty and on a seeded database (`--only growth`). */
  growth: GrowthFigures | null
  /** CPU of the platform's processes per create request and per pipeline order (the budgets). */
  cpuPer: { createRequest: CpuPerUnit | null, pipelineOrder: CpuPerUnit | null }
  /** `--only audience`: 5,000 WebSockets open, in rounds alternating with rounds without them. */
  audience: AudienceFigures | null
  targets: TargetCheck[]
  notes: string[]
}

export interface TargetCheck {
  /** Stable, for code that looks one up: 'post-ratio', 'pipeline-ratio', 'latency', 'create-cpu', 'pipeline-cpu', … */
  key: string
  name: string
  value: number | null
  comparison: '≥' | '≤'
  target: number
  unit: string
  /** null when a figure it needs is missing. */
  pass: boolean | null
}

/**
 * The targets: same-run ratios (never absolute numbers across runs) and CPU per request
 * or order (what a shared machine distorts least).
 */
export function checkTargets (result: Pick<BenchResult, 'baseline' | 'createPath' | 'pipeline' | 'cpuPer' | 'growth'>): TargetCheck[] {
  const tps = result.baseline?.tps
  const ratio = (value: number | undefined) => value === undefined || !tps ? null : round(value / tps, 3)
  const check = (key: string, name: string, value: number | null, comparison: '≥' | '≤', target: number, unit: string): TargetCheck => ({
    key, name, value, comparison, target, unit, pass: value === null ? null : comparison === '≥' ? value >= target : value <= target
  })
  return [
    check('post-ratio', 'POST /orders 2xx/s ÷ pgbench tps', ratio(result.createPath?.okRps), '≥', 0.35, '×'),
    check('pipeline-ratio', 'pipeline sustainable orders/s ÷ pgbench tps', ratio(result.pipeline?.sustainableRate), '≥', 0.1, '×'),
    check('latency', 'pipeline p99, create → completed, at half the sustainable rate', result.pipeline?.atHalfRate?.p99Ms ?? null, '≤', 50, 'ms'),
    ...checkCpuBudgets(result.cpuPer.createRequest, result.cpuPer.pipelineOrder),
    ...growthTargets(result.growth)
  ]
}

interface Row {
  measurement: string
  throughput: string
  p50: string
  p95: string
  p99: string
  failures: string
  ratio: string
  target: string
}

const dash = '—'
const ms = (value: number | undefined) => value === undefined || !Number.isFinite(value) ? dash : String(round(value, 1))
const passOrFail = (check: TargetCheck) => check.pass === null ? 'n/a' : check.pass ? 'PASS' : 'FAIL'
const verdict = (check: TargetCheck | undefined) => !check ? '' : `${check.comparison} ${check.target}${check.unit === 'ms' ? ' ms' : ''}: ${passOrFail(check)}`
const target = (result: BenchResult, key: string) => result.targets.find(check => check.key === key)

function rows (result: BenchResult): Row[] {
  const tps = result.baseline?.tps
  const ratio = (value: number) => tps ? `${round(value / tps, 3)}` : dash
  const out: Row[] = []
  if (result.baseline) {
    const b = result.baseline
    out.push({ measurement: `pgbench create-order statement, ${b.clients} clients`, throughput: `${Math.round(b.tps)} tps`, p50: dash, p95: dash, p99: `avg ${ms(b.latencyAverageMs)}`, failures: `${b.failed} failed`, ratio: '1', target: '' })
  }
  const create = result.createPath
  const measured = [...(create ? [{ ...create, name: `${create.name}${create.processorStopped ? ' (processor stopped)' : ''}` }] : []), ...result.http]
  for (const h of measured) {
    out.push({
      measurement: `${h.name}, ${h.connections} conns`,
      throughput: `${Math.round(h.rps)} req/s`,
      p50: ms(h.p50Ms),
      p95: dash,
      p99: ms(h.p99Ms),
      failures: `${h.non2xx} non-2xx, ${h.errors} errors`,
      ratio: ratio(h.okRps),
      target: h.name.startsWith('POST /orders') ? verdict(target(result, 'post-ratio')) : ''
    })
  }
  const p = result.pipeline
  if (p) {
    const capped = p.cappedByMaxRate ? ' (capped by --max-rate)' : ''
    out.push({ measurement: 'pipeline: sustainable rate', throughput: `${p.sustainableRate} orders/s${capped}`, p50: dash, p95: dash, p99: dash, failures: '', ratio: ratio(p.sustainableRate), target: verdict(target(result, 'pipeline-ratio')) })
    const half = p.atHalfRate
    if (half) {
      out.push({ measurement: `pipeline at half rate, create → completed`, throughput: `${half.rate} orders/s offered`, p50: ms(half.p50Ms), p95: ms(half.p95Ms), p99: ms(half.p99Ms), failures: `${half.rejected} refused, ${half.neverCompleted} never completed`, ratio: '', target: verdict(target(result, 'latency')) })
    }
  }
  return out
}

const HEADERS: Record<keyof Row, string> = {
  measurement: 'measurement', throughput: 'throughput', p50: 'p50 ms', p95: 'p95 ms', p99: 'p99 ms', failures: 'failures', ratio: '÷ pgbench', target: 'target'
}

/** The one table the run prints, plus the CPU each measurement used. */
export function formatConsoleReport (result: BenchResult): string {
  const table = rows(result)
  const keys = Object.keys(HEADERS) as Array<keyof Row>
  const width = (key: keyof Row) => Math.max(HEADERS[key].length, ...table.map(row => row[key].length))
  const line = (cells: Record<keyof Row, string>) => keys.map(key => cells[key].padEnd(width(key))).join('  ').trimEnd()
  const out = [line(HEADERS), keys.map(key => '─'.repeat(width(key))).join('  '), ...table.map(line)]
  const cores = result.idleCpu.cores
  out.push('', 'CPU while each ran (% of one core; the machine has ' + `${cores} cores = ${cores * 100} %):`)
  for (const [name, cpu, requests] of cpuByMeasurement(result)) out.push(`  ${name}: ${formatCpu(cpu, requests)}`)
  out.push('', 'CPU of the platform per request or order (ms; every process but the bench and other people\'s):')
  for (const line of cpuPerUnitLines(result)) out.push(`  ${line}`)
  if (result.audience) out.push('', ...formatAudience(result.audience))
  out.push(...formatGrowth(result.growth, false))
  out.push('', 'Targets:', ...result.targets.map(check => `  ${passOrFail(check).padEnd(4)}  ${formatCheck(check)}`))
  if (result.notes.length > 0) out.push('', ...result.notes.map(note => `note: ${note}`))
  return out.join('\n')
}

/** Each measurement's CPU report, with how many requests (or orders, or transactions) it served. */
function cpuByMeasurement (result: BenchResult): Array<[string, CpuReport, number]> {
  const list: Array<[string, CpuReport, number]> = [['before any load (1 s)', result.idleCpu, 0]]
  if (result.baseline) list.push(['pgbench', result.baseline.cpu, result.baseline.transactions])
  if (result.createPath) list.push([`POST /orders${result.createPath.processorStopped ? ' (processor stopped)' : ''}`, result.createPath.cpu, result.createPath.requests])
  for (const h of result.http) list.push([h.name, h.cpu, h.requests])
  const p = result.pipeline
  if (p) {
    const lastSustained = [...p.steps].reverse().find(s => s.sustained)
    const firstFailed = p.steps.filter(s => !s.sustained).sort((a, b) => a.rate - b.rate)[0]
    if (lastSustained) list.push([`pipeline at ${lastSustained.rate} orders/s (sustained)`, lastSustained.cpu, lastSustained.sent])
    if (firstFailed) list.push([`pipeline at ${firstFailed.rate} orders/s (not sustained)`, firstFailed.cpu, firstFailed.sent])
    if (p.atHalfRate) list.push([`pipeline at ${p.atHalfRate.rate} orders/s (half rate)`, p.atHalfRate.cpu, p.atHalfRate.sent])
  }
  return list
}

function cpuPerUnitLines (result: BenchResult): string[] {
  const units = [result.cpuPer.createRequest, result.cpuPer.pipelineOrder].filter(unit => unit !== null)
  if (units.length === 0) return ['(not measured: the create path needs a system the bench started, the pipeline a sustained step)']
  return units.map(unit => `${unit.what}: ${formatCpuPerUnit(unit)}`)
}

function formatCheck (check: TargetCheck): string {
  const value = check.value === null ? 'not measured' : `${check.value}${check.unit === 'ms' ? ' ms' : ''}`
  return `${check.name}: ${value} (target ${check.comparison} ${check.target}${check.unit === 'ms' ? ' ms' : ''})`
}

/**
 * "machine 190 % busy; order-service 120 % (6.1 ms/req), …": the CPU time per request is the
 * figure that survives a noisy, shared machine, where throughput does not.
 */
function formatCpu (cpu: CpuReport, requests: number): string {
  const perRequest = (percent: number) => requests > 0 ? ` (${round(percent * 10 * cpu.wallS / requests, 2)} ms each)` : ''
  // Only the platform's own processes (and the database's backends for it) serve the requests.
  const foreign = (label: string) => /^other|\(other databases\)|\(another one\)|^before/.test(label)
  const parts = Object.entries(cpu.byProcess).slice(0, 7).map(([label, value]) => `${label} ${Math.round(value)} %${foreign(label) ? '' : perRequest(value)}`)
  return `machine ${Math.round(cpu.machineBusy)} % busy; ${parts.join(', ')}`
}

export function formatMarkdownReport (result: BenchResult): string {
  const keys = Object.keys(HEADERS) as Array<keyof Row>
  const mdRow = (cells: string[]) => `| ${cells.map(cell => cell.replaceAll('|', '\\|')).join(' | ')} |`
  const cores = result.idleCpu.cores
  const out: string[] = [
    `# pnpm bench — ${result.startedAt}`,
    '',
    `System: ${result.system}. Each HTTP measurement ${result.options.durationS} s at ${result.options.connections} connections; ` +
      `pipeline steps of ${result.options.stepS} s${result.options.quick ? ' (--quick)' : ''}.`,
    '',
    mdRow(keys.map(key => HEADERS[key])),
    mdRow(keys.map(() => '---')),
    ...rows(result).map(row => mdRow(keys.map(key => row[key]))),
    '',
    '## CPU while each measurement ran',
    '',
    '% of one core (the machine has ' + `${cores} cores = ${cores * 100} %), sampled from /proc every 0.5 s.`,
    ''
  ]
  for (const [name, cpu, requests] of cpuByMeasurement(result)) out.push(`- **${name}**: ${formatCpu(cpu, requests)}`)
  out.push('', '## CPU of the platform per request or order', '', 'ms of CPU, every process but the bench and other people\'s (RabbitMQ serves every vhost on the machine).', '')
  for (const line of cpuPerUnitLines(result)) out.push(`- ${line}`)
  if (result.audience) out.push('', '## Audience', '', ...formatAudience(result.audience).map(line => `    ${line}`))
  out.push('', '## Targets', '', ...result.targets.map(check => `- **${passOrFail(check)}** ${formatCheck(check)}`))
  out.push(...formatGrowth(result.growth, true))

  if (result.pipeline) {
    out.push('', '## Pipeline steps', '',
      'Latency from the POST\'s scheduled start to the final status on the WebSocket; the medians split it at the 201 and at `processing`.', '',
      mdRow(['orders/s offered', 's', 'sent', 'completions/s (2nd half)', 'not final at end', 'p50 ms', 'p99 ms', 'median POST / →processing / →final ms', 'verdict']), mdRow(Array(9).fill('---')))
    const stepRow = (s: PipelineStep) => mdRow([String(s.rate), String(s.durationS), String(s.sent), String(s.completionRate), String(s.backlogAtEnd), ms(s.p50Ms), ms(s.p99Ms), `${ms(s.medianPostMs)} / ${ms(s.medianToProcessingMs)} / ${ms(s.medianToFinalMs)}`, s.verdict])
    for (const step of result.pipeline.steps) out.push(stepRow(step))
    if (result.pipeline.atHalfRate) out.push(stepRow(result.pipeline.atHalfRate))
  }

  if (result.notes.length > 0) out.push('', '## Notes', '', ...result.notes.map(note => `- ${note}`))
  return out.join('\n') + '\n'
}

/** Writes bench-results/<timestamp>.json and .md; returns their paths. */
export async function writeReports (directory: string, result: BenchResult): Promise<string[]> {
  await mkdir(directory, { recursive: true })
  const stamp = result.startedAt.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z')
  const json = path.join(directory, `${stamp}.json`)
  const markdown = path.join(directory, `${stamp}.md`)
  await writeFile(json, JSON.stringify(result, null, 2) + '\n')
  await writeFile(markdown, formatMarkdownReport(result))
  return [json, markdown]
}
