import { readdirSync, readFileSync } from 'node:fs'

// What Linux says about a process and its threads (proc(5)), read by the tests of the hashing
// worker: which process it is, the nice of each thread, the CPU time it has used.

/** The fields of a stat file after the command name (which may hold spaces and parentheses). */
function statFields (path: string): string[] | undefined {
  try {
    const stat = readFileSync(path, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  } catch {
    return undefined // the process or thread has just ended
  }
}

// Indexes into statFields: proc(5) numbers the fields from 1, and the list starts at field 3.
const PPID = 4 - 3
const UTIME = 14 - 3
const STIME = 15 - 3
const NICE = 19 - 3

/** The running children of `parent` whose command line contains `command`. */
export function childProcesses (parent: number, command: string): number[] {
  return readdirSync('/proc').filter(entry => /^\d+$/.test(entry)).map(Number).filter(pid => {
    if (statFields(`/proc/${pid}/stat`)?.[PPID] !== String(parent)) return false
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(command)
    } catch {
      return false
    }
  })
}

/** The password-hashing worker of this process (there must be exactly one). */
export function hashingWorker (parent = process.pid): number {
  const workers = childProcesses(parent, 'hashing-worker')
  if (workers.length !== 1) throw new Error(`expected one hashing worker of ${parent}, found ${workers.length}`)
  return workers[0]!
}

/** Each thread's nice value, by thread id. */
export function threadNices (pid: number): Map<number, number> {
  const nices = new Map<number, number>()
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const nice = statFields(`/proc/${pid}/task/${tid}/stat`)?.[NICE]
    if (nice !== undefined) nices.set(Number(tid), Number(nice))
  }
  return nices
}

/** CPU time the process has used, user and system, in clock ticks (10 ms on Linux). */
export function cpuTicks (pid: number): number {
  const fields = statFields(`/proc/${pid}/stat`)
  if (fields === undefined) throw new Error(`process ${pid} is gone`)
  return Number(fields[UTIME]) + Number(fields[STIME])
}

/** Whether the process still runs (a zombie, ended but not yet reaped, does not). */
export function isRunning (pid: number): boolean {
  const state = statFields(`/proc/${pid}/stat`)?.[0]
  return state !== undefined && state !== 'Z' && state !== 'X'
}
