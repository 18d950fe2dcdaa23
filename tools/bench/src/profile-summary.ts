/**
 * `node --import tsx tools/bench/src/profile-summary.ts <file.cpuprofile> [--skip <s>] [--top <n>]`
 * — where a process spent its CPU: self time by package (node_modules/<name>, packages/<name>,
 * Node's own internals, garbage collection) and the top functions by self time. `--skip` leaves
 * out the first seconds (start-up: module loading through tsx dominates them).
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

interface ProfileNode {
  id: number
  callFrame: { functionName: string, url: string, lineNumber: number }
  children?: number[]
}
interface Profile { nodes: ProfileNode[], samples: number[], timeDeltas: number[], startTime: number, endTime: number }

export function summariseProfile (profile: Profile, options: { top?: number, skipS?: number } = {}): string {
  const top = options.top ?? 25
  const byId = new Map(profile.nodes.map(node => [node.id, node]))
  const selfMicros = new Map<number, number>()
  const from = profile.startTime + (options.skipS ?? 0) * 1_000_000
  let at = profile.startTime
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0
    if (at >= from) selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  })

  const byPackage = new Map<string, number>()
  const byFunction = new Map<string, number>()
  let busy = 0
  for (const [id, micros] of selfMicros) {
    const frame = byId.get(id)!.callFrame
    if (frame.functionName === '(idle)' || frame.functionName === '(program)') continue
    busy += micros
    byPackage.set(packageOf(frame.url, frame.functionName), (byPackage.get(packageOf(frame.url, frame.functionName)) ?? 0) + micros)
    const where = frame.url ? `${shorten(frame.url)}:${frame.lineNumber + 1}` : ''
    const key = `${frame.functionName || '(anonymous)'} ${where}`.trim()
    byFunction.set(key, (byFunction.get(key) ?? 0) + micros)
  }
  const wall = profile.endTime - Math.max(profile.startTime, from)
  const ms = (micros: number) => (micros / 1000).toFixed(0).padStart(7)
  const pct = (micros: number) => `${(100 * micros / busy).toFixed(1).padStart(5)} %`
  const sorted = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1])
  return [
    `on CPU ${ms(busy).trim()} ms of ${(wall / 1000).toFixed(0)} ms profiled (idle and unattributed "(program)" time left out)`,
    '',
    'self time by package:',
    ...sorted(byPackage).slice(0, top).map(([name, micros]) => `  ${ms(micros)} ms ${pct(micros)}  ${name}`),
    '',
    'self time by function:',
    ...sorted(byFunction).slice(0, top).map(([name, micros]) => `  ${ms(micros)} ms ${pct(micros)}  ${name}`)
  ].join('\n')
}

function packageOf (url: string, functionName: string): string {
  if (functionName === '(garbage collector)') return '(garbage collector)'
  if (!url) return `(native: ${functionName || 'anonymous'})`
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`
  const modules = url.lastIndexOf('/node_modules/')
  if (modules >= 0) {
    const parts = url.slice(modules + '/node_modules/'.length).split('/')
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!
  }
  const workspace = /\/packages\/([^/]+)\//.exec(url)
  return workspace ? `packages/${workspace[1]}` : shorten(url)
}

function shorten (url: string): string {
  return url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\/\.pnpm\/[^/]+\/node_modules\//, '').replace(/^.*\/(packages|scripts|tools)\//, '$1/')
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { skip: { type: 'string' }, top: { type: 'string' } } })
  const file = positionals[0]
  if (!file) {
    console.error('usage: node --import tsx tools/bench/src/profile-summary.ts <file.cpuprofile> [--skip <s>] [--top <n>]')
    process.exit(2)
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
  console.log(summariseProfile(profile, { top: Number(values.top ?? 25), skipS: Number(values.skip ?? 0) }))
}
