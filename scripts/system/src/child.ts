/**
 * One child process of the system: spawned in a process group of its own (so a signal reaches
 * it and anything it starts, and a terminal's Ctrl-C reaches only the launcher), its output
 * read line by line, stopped with SIGTERM and then SIGKILL, restarted with the same environment.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { waitUntilAllReady } from './readiness.ts'
import { REPO_ROOT, type ProcessName } from './topology.ts'
import type { Watchdog } from './watchdog.ts'

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

/** What to run, with which environment, and how to tell it is ready. */
export interface ProcessSpec {
  name: ProcessName
  command: string
  args: string[]
  env: NodeJS.ProcessEnv
  url: string
  /** null when ready, otherwise why not (for the timeout message). */
  probe: () => Promise<string | null>
  /** Output lines to leave out (HAProxy prints each state change twice). */
  skipStderrLine?: (line: string) => boolean
}

export type LogLine = (source: string, line: string) => void

/** A process must exit this long after SIGTERM, or it gets SIGKILL. */
export const STOP_TIMEOUT_MS = 10_000
const KEPT_LINES = 50

export class ManagedChild implements ManagedProcess {
  readonly name: ProcessName
  readonly url: string
  #spec: ProcessSpec
  #log: LogLine
  #watchdog: Watchdog
  #child: ChildProcess | undefined
  #exited: Promise<ExitStatus> = Promise.resolve({ code: null, signal: null })
  #running = false
  #lines: string[] = []

  constructor (spec: ProcessSpec, log: LogLine, watchdog: Watchdog) {
    this.name = spec.name
    this.url = spec.url
    this.#spec = spec
    this.#log = log
    this.#watchdog = watchdog
  }

  get pid (): number | undefined { return this.#running ? this.#child?.pid : undefined }
  get running (): boolean { return this.#running }
  /** The exit of the current run. */
  get exited (): Promise<ExitStatus> { return this.#exited }

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

  async probe (): Promise<string | null> {
    return await this.#spec.probe()
  }

  lastLines (count = KEPT_LINES): string[] {
    return this.#lines.slice(-count)
  }

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
