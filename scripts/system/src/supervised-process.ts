/**
 * One child process under supervision: the platform's services and HAProxy (child.ts), and the
 * engines of high availability and observation (a RabbitMQ node, etcd, a Patroni member,
 * Prometheus). Each runs in a process group of its own, so a signal reaches it and whatever it
 * forks, and a terminal's Ctrl-C reaches only the launcher, which then stops them in order; its
 * group is on the watchdog's list while it runs, so it is stopped even if the launcher dies.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { Watchdog } from './watchdog.ts'

export type LogLine = (source: string, line: string) => void

export interface ExitStatus { code: number | null, signal: NodeJS.Signals | null }

export interface SupervisedSpec {
  name: string
  command: string
  args: string[]
  env: NodeJS.ProcessEnv
  cwd?: string
  /** Run as this user (Patroni and PostgreSQL refuse to run as root). */
  user?: { uid: number, gid: number }
  /** Output lines to leave out (HAProxy prints each state change twice, once on stderr). */
  skipStderrLine?: (line: string) => boolean
  /** The log source of its exit line: "system" for the platform's processes, "ha" for engines. */
  exitLogSource?: string
}

/** Enough of a process's last words to say why it did not start. */
const KEPT_LINES = 50

/** SIGTERM to SIGKILL when the launcher died: a RabbitMQ node or PostgreSQL flushes its data meanwhile. */
export const ENGINE_STOP_GRACE_MS = 15_000

export class SupervisedProcess {
  readonly name: string
  #spec: SupervisedSpec
  #log: LogLine
  #watchdog: Watchdog
  #child: ChildProcess | undefined
  #exited: Promise<ExitStatus> = Promise.resolve({ code: null, signal: null })
  #running = false
  #lines: string[] = []
  /** Called once per exit that nobody asked for (kill() and stop() are asked for). */
  onUnexpectedExit: ((status: ExitStatus) => void) | undefined
  #expectingExit = false

  constructor (spec: SupervisedSpec, log: LogLine, watchdog: Watchdog) {
    this.name = spec.name
    this.#spec = spec
    this.#log = log
    this.#watchdog = watchdog
  }

  get pid (): number | undefined { return this.#running ? this.#child?.pid : undefined }
  get running (): boolean { return this.#running }
  /** The exit of the current run (resolved at once when it is not running). */
  get exited (): Promise<ExitStatus> { return this.#exited }

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
    this.#readLines(child.stdout!, () => false)
    this.#readLines(child.stderr!, this.#spec.skipStderrLine ?? (() => false))
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
        this.#log(this.#spec.exitLogSource ?? 'system', `${this.name} exited ${signal !== null ? `on ${signal}` : `with code ${code}`}`)
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

  /** `signal`, then SIGKILL after `graceMs` (`onGraceOver` says so); resolves when it has exited. */
  async stop ({ signal = 'SIGTERM', graceMs = 20_000, onGraceOver }: { signal?: NodeJS.Signals, graceMs?: number, onGraceOver?: () => void } = {}): Promise<void> {
    if (!this.#running) return
    this.kill(signal)
    const timer = setTimeout(() => { onGraceOver?.(); this.kill('SIGKILL') }, graceMs)
    await this.#exited
    clearTimeout(timer)
  }

  /** Its most recent output lines, for error messages. */
  lastLines (count = 15): string[] { return this.#lines.slice(-count) }

  #readLines (stream: NodeJS.ReadableStream, skip: (line: string) => boolean): void {
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', line => {
      if (!skip(line)) this.#record(line)
    })
  }

  #record (line: string): void {
    this.#lines.push(line)
    if (this.#lines.length > KEPT_LINES) this.#lines.shift()
    this.#log(this.name, line)
  }
}
