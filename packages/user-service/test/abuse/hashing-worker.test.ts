import t from 'tap'
import { once } from 'node:events'
import { getPriority } from 'node:os'
import { spawn } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { buildUserService, countAccounts, register, type App } from '../helper.ts'
import { cpuTicks, hashingWorker, isRunning, threadNices } from './process-table.ts'

// The hashing worker (src/passwords.ts), a real process: anonymous work (registrations, sign-ins
// for unknown emails) runs there at nice 19, sign-ins to existing accounts in the service's own
// process; a crash costs the request it held a 503, and the worker never outlives the service.

const signIn = async (app: App, email: string) =>
  await app.inject({ method: 'POST', url: '/login', payload: { email, password: 'correct horse battery' } })

/** The nice of every thread `pid` had while `work` ran, sampled each millisecond. */
async function threadsDuring<T> (pid: number, work: Promise<T>): Promise<{ result: T, nices: Map<number, number> }> {
  const nices = new Map<number, number>()
  let done = false
  const result = work.finally(() => { done = true })
  while (!done) {
    for (const [tid, nice] of threadNices(pid)) nices.set(tid, nice)
    await sleep(1)
  }
  return { result: await result, nices }
}

/**
 * Resolves once the worker has used 30 ms of CPU since `ticks` (cpuTicks): it is hashing.
 * Linux announces no such moment, so its counter is read every 2 ms.
 */
async function hashingStarted (worker: number, ticks: number): Promise<void> {
  while (cpuTicks(worker) < ticks + 3) await sleep(2)
}

t.test('anonymous hashing runs in a process whose every thread is at nice 19; a sign-in to an existing account runs in the service\'s own process, not niced', async t => {
  const { app } = await buildUserService(t)
  await register(app, 'ada@example.com')
  const worker = hashingWorker()
  const idleThreads = threadNices(worker).size

  let workerTicks = cpuTicks(worker)
  const anonymous = await threadsDuring(worker, signIn(app, 'nobody@example.com'))
  t.equal(anonymous.result.statusCode, 401)
  t.ok(cpuTicks(worker) - workerTicks >= 5, 'the worker used at least 50 ms of CPU: it verified the password')
  t.ok(anonymous.nices.size > idleThreads, `argon2's lane threads were seen too (${anonymous.nices.size} threads, ${idleThreads} when idle)`)
  t.same([...new Set(anonymous.nices.values())], [19], 'every thread of the worker at nice 19')

  workerTicks = cpuTicks(worker)
  const ownCpu = process.cpuUsage()
  const ownThreads = threadNices(process.pid).size
  const existing = await threadsDuring(process.pid, signIn(app, 'ada@example.com'))
  t.equal(existing.result.statusCode, 200)
  const { user, system } = process.cpuUsage(ownCpu)
  t.ok((user + system) / 1000 >= 50, `the service's process used ${((user + system) / 1000).toFixed(0)} ms of CPU: it verified the password`)
  t.ok(cpuTicks(worker) - workerTicks <= 1, 'the worker did not')
  t.ok(existing.nices.size > ownThreads, `argon2's lane threads were seen in the service's process (${existing.nices.size} threads, ${ownThreads} before)`)
  t.same([...new Set(existing.nices.values())], [getPriority()], `every thread at the service's own nice (${getPriority()})`)
  t.not(getPriority(), 19)
})

// The worker is stopped (SIGSTOP) while it hashes: the limit of what nice 19 does when the cores
// are busy. A real sign-in must then still be answered, because it never waits for the worker;
// with one queue for both it would wait for the anonymous hash in progress, for ever here.
// (Racing the two hashes instead would decide nothing: the niced hash still runs whenever the
// real one leaves a core idle, and may finish first.)
t.test('a real sign-in is answered while the anonymous hashing is stalled, before every anonymous sign-in sent ahead of it', async t => {
  const { app } = await buildUserService(t) // the defaults: 4 may wait beside the one hashing
  await register(app, 'ada@example.com')
  const worker = hashingWorker()
  const answered: string[] = []
  const ticks = cpuTicks(worker)
  const anonymous = Array.from({ length: 5 }, async (_, i) => {
    const res = await signIn(app, `nobody${i}@example.com`)
    answered.push(`anonymous ${i}`)
    return res.statusCode
  })
  await hashingStarted(worker, ticks)
  process.kill(worker, 'SIGSTOP')
  const resume = () => { try { process.kill(worker, 'SIGCONT') } catch {} }
  t.teardown(resume)
  const real = await signIn(app, 'ada@example.com')
  answered.push('real')
  resume()
  t.equal(real.statusCode, 200)
  t.same(await Promise.all(anonymous), [401, 401, 401, 401, 401], 'one hashing and four waiting: none refused')
  t.equal(answered[0], 'real', `answered in this order: ${answered.join(', ')}`)
})

t.test('a worker that dies while hashing costs that request a 503 with a message; a new worker answers the next', async t => {
  const { app, db } = await buildUserService(t)
  const worker = hashingWorker()
  const ticks = cpuTicks(worker)
  const registration = app.inject({ method: 'POST', url: '/users', payload: { email: 'ada@example.com', password: 'correct horse battery' } })
  await hashingStarted(worker, ticks)
  process.kill(worker, 'SIGKILL')
  const res = await registration
  t.equal(res.statusCode, 503)
  t.equal(res.headers['retry-after'], '1')
  t.match(res.json(), { statusCode: 503, message: 'Checking the password was interrupted; nothing was changed. Try again in a second' })
  t.equal(await countAccounts(db), 0, 'no account was created')

  await register(app, 'ada@example.com')
  t.not(hashingWorker(), worker, 'by a new worker')
})

t.test('the worker stops when the service closes', async t => {
  const { app } = await buildUserService(t)
  const worker = hashingWorker()
  await app.close()
  t.notOk(isRunning(worker))
})

t.test('the worker of a killed service ends by itself', { timeout: 30_000 }, async t => {
  // A service process of its own, with its hasher; the worker shares its stdout, so the pipe
  // closes (and `close` is emitted) only once the worker has ended too.
  const passwords = new URL('../../src/passwords.ts', import.meta.url).href
  const service = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e',
    `import { PasswordHasher } from '${passwords}'; await PasswordHasher.create(); process.stdout.write('ready\\n'); setInterval(() => {}, 60_000)`
  ], { stdio: ['ignore', 'pipe', 'inherit'] })
  const closed = once(service, 'close')
  await once(service.stdout, 'data')
  const worker = hashingWorker(service.pid)
  service.kill('SIGKILL')
  await closed
  t.notOk(isRunning(worker), 'the worker ended with its service')
})
