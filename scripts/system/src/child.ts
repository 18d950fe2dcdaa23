/**
 * One process of the platform (a service or HAProxy): a supervised process (supervised-process.ts)
 * that also knows its URL and how to tell it is ready, so it can be restarted and waited for.
 */
import { waitUntilAllReady } from './readiness.ts'
import { SupervisedProcess, type ExitStatus, type LogLine } from './supervised-process.ts'
import { REPO_ROOT, type ProcessName } from './topology.ts'
import type { Watchdog } from './watchdog.ts'

export type { ExitStatus, LogLine } from './supervised-process.ts'

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

/** A process must exit this long after SIGTERM, or it gets SIGKILL. */
export const STOP_TIMEOUT_MS = 10_000
const KEPT_LINES = 50

export class ManagedChild implements ManagedProcess {
  readonly name: ProcessName
  readonly url: string
  #process: SupervisedProcess
  #probe: () => Promise<string | null>
  #log: LogLine

  constructor (spec: ProcessSpec, log: LogLine, watchdog: Watchdog) {
    this.name = spec.name
    this.url = spec.url
    this.#probe = spec.probe
    this.#log = log
    const { name, command, args, env, skipStderrLine } = spec
    this.#process = new SupervisedProcess({ name, command, args, env, skipStderrLine, cwd: REPO_ROOT }, log, watchdog)
  }

  get pid (): number | undefined { return this.#process.pid }
  get running (): boolean { return this.#process.running }
  /** The exit of the current run. */
  get exited (): Promise<ExitStatus> { return this.#process.exited }

  start (): void { this.#process.start() }

  kill (signal: NodeJS.Signals = 'SIGTERM'): void { this.#process.kill(signal) }

  async waitForExit (): Promise<ExitStatus> { return await this.#process.waitForExit() }

  async stop (): Promise<void> {
    await this.#process.stop({
      graceMs: STOP_TIMEOUT_MS,
      onGraceOver: () => { this.#log('system', `${this.name} did not stop within ${STOP_TIMEOUT_MS / 1000} s; killing it`) }
    })
  }

  async restart (options: { readyTimeoutMs?: number } = {}): Promise<void> {
    await this.stop()
    this.start()
    await this.waitUntilReady(options.readyTimeoutMs)
  }

  async waitUntilReady (timeoutMs = 60_000): Promise<void> {
    await waitUntilAllReady([this], Date.now() + timeoutMs)
  }

  async probe (): Promise<string | null> { return await this.#probe() }

  lastLines (count = KEPT_LINES): string[] { return this.#process.lastLines(count) }
}
