/**
 * One engine process (a RabbitMQ node, etcd, a Patroni member, HAProxy) in a process group
 * of its own, so a signal reaches it and whatever it forks, and a terminal's Ctrl-C reaches
 * only the launcher, which then stops the engines in order.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { Watchdog } from '../watchdog.ts'

export type LogLine = (source: string, line: string) => void

export interface EngineSpec {
  name: string
  command: string
  args: string[]
  env: NodeJS.ProcessEnv
  cwd?: string
  /** Run as this user (Patroni and PostgreSQL refuse to run as root). */
  user?: { uid: number, gid: number }
}

export interface ExitStatus { code: number | null, signal: NodeJS.Signals | null }

const KEPT_LINES = 40

/** SIGTERM to SIGKILL when the launcher died: a RabbitMQ node or PostgreSQL flushes its data meanwhile. */
export const ENGINE_STOP_GRACE_MS = 15_000

export class EngineProcess {
  readonly name: string
  #spec: EngineSpec
  #log: LogLine
  #watchdog: Watchdog
  #child: ChildProcess | undefined
  #exited: Promise<ExitStatus> = Promise.resolve({ code: null, signal: null })
  #running = false
  #lines: string[] = []
  /** Called once per exit that nobody asked for (kill() and stop() are asked for). */
  onUnexpectedExit: ((status: ExitStatus) => void) | undefined
  #expectingExit = false

  constructor (spec: EngineSpec, log: LogLine, watchdog: Watchdog) {
    this.name = spec.name
    this.#spec = spec
    this.#log = log
    this.#watchdog = watchdog
  }

  get pid (): number | undefined { return this.#running ? this.#child?.pid : undefined }
  get running (): boolean { return this.#running }

  start (): void {
    if (this.#running) throw new Error(`${this.name} is already running`)
    const child = spawn(this.#spec.command, this.#spec.args, {
      cwd: this.#spec.cwd,
      env: this.#spec.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      ...this.#spec.user
    })
    this.#child = child
    this.#running = true
    this.#expectingExit = false
    const pid = child.pid
    if (pid !== undefined) this.#watchdog.add(pid)
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', line => { this.#record(line) })
    }
    this.#exited = new Promise(resolve => {
      child.once('error', err => { this.#record(`could not start ${this.#spec.command}: ${err.message}`) })
      child.once('close', (code, signal) => {
        this.#running = false
        if (pid !== undefined) {
          this.#watchdog.remove(pid)
          // Helpers the engine forked into its group go with it.
          try { process.kill(-pid, 'SIGKILL') } catch {}
        }
        this.#log('ha', `${this.name} exited ${signal !== null ? `on ${signal}` : `with code ${code}`}`)
        resolve({ code, signal })
        if (!this.#expectingExit) this.onUnexpectedExit?.({ code, signal })
      })
    })
  }

  /** Sends a signal to the whole process group; returns at once. */
  kill (signal: NodeJS.Signals = 'SIGTERM'): void {
    const pid = this.pid
    if (pid === undefined) return
    this.#expectingExit = true
    try { process.kill(-pid, signal) } catch {}
  }

  async waitForExit (): Promise<ExitStatus> { return await this.#exited }

  /** `signal`, then SIGKILL after `graceMs`; resolves when it has exited. */
  async stop ({ signal = 'SIGTERM', graceMs = 20_000 }: { signal?: NodeJS.Signals, graceMs?: number } = {}): Promise<void> {
    if (!this.#running) return
    this.kill(signal)
    const timer = setTimeout(() => { this.kill('SIGKILL') }, graceMs)
    await this.#exited
    clearTimeout(timer)
  }

  lastLines (count = 15): string[] { return this.#lines.slice(-count) }

  #record (line: string): void {
    this.#lines.push(line)
    if (this.#lines.length > KEPT_LINES) this.#lines.shift()
    this.#log(this.name, line)
  }
}
