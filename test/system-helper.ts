import type { Test } from 'tap'
import { startIsolatedSystem, type ProcessName } from '@orders/system'
import { createTestRedis } from '@orders/test-support'

// The end-to-end tests talk to the platform through the same gateway client as bench and chaos.
export { call, registerAndLogin, waitForOrderStatus, type HttpAnswer } from '@orders/test-support'

export type TestSystem = Awaited<ReturnType<typeof startTestSystem>>

/**
 * Every request of a test comes from 127.0.0.1, and the flows sharing a system register and
 * sign in dozens of people a minute: far above the per-address limits a real client meets.
 * The limits themselves are tested in packages/user-service/test/abuse/.
 */
const LIMITS_NO_FLOW_MEETS = {
  REGISTRATION_LIMIT_PER_CLIENT: '10000',
  LOGIN_LIMIT_PER_CLIENT: '10000',
  LOGIN_LIMIT_PER_ACCOUNT: '10000',
  TOKEN_LIMIT_PER_CLIENT: '10000',
  SESSION_LIMIT_PER_CLIENT: '10000'
}

/**
 * The whole platform as `pnpm dev` starts it (migrations, user-service, two order-service
 * replicas, relay, processor, web app, HAProxy), on free ports, a database, a vhost and a Redis
 * key prefix of its own. Process output is kept and printed only when a test fails.
 */
export async function startTestSystem (t: Test, env: Record<string, string> = {}) {
  const lines: string[] = []
  const onLog = (source: string, line: string) => { lines.push(`${source.padEnd(16)} ${line}`) }
  const redis = await createTestRedis()
  t.teardown(async () => { await redis.drop() })
  const isolated = await startIsolatedSystem({
    env: { ...LIMITS_NO_FLOW_MEETS, REDIS_URL: redis.url, REDIS_KEY_PREFIX: redis.keyPrefix, ...env },
    onLog
  }).catch(err => {
    console.error(lines.join('\n'))
    throw err
  })
  t.teardown(async () => {
    if (!t.passing()) console.error(lines.slice(-300).join('\n'))
    await isolated.stop()
  })
  const { system, database, vhost } = isolated
  // db and amqpUrl are the admins' (guest on the vhost), for assertions; the processes run as their own roles and users (system.serviceUrls).
  return { system, db: database.db, amqpUrl: vhost.url, lines, gateway: system.gatewayUrl }
}

/**
 * Stops one process of a shared system for the rest of test `t`, and starts it again when `t`
 * ends, pass or fail, so that the next flow finds the whole system. Returns the process, for
 * a test that restarts it itself earlier.
 */
export async function stopUntilTestEnds (t: Test, { system }: TestSystem, name: ProcessName) {
  const child = system.processes.get(name)
  if (!child) throw new Error(`the system has no process ${name}`)
  await child.stop()
  t.teardown(async () => { if (!child.running) await child.restart() })
  return child
}

/**
 * Resolves with the first log line matching `pattern` at index `from` or later (0: any line
 * since the start; `lines.length` taken before an action: a line that action caused), now or
 * within the deadline.
 */
export async function waitForLogLine (lines: string[], pattern: RegExp, { from = 0, timeoutMs = 15_000 } = {}): Promise<string> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const found = lines.slice(from).find(line => pattern.test(line))
    if (found) return found
    if (Date.now() > deadline) throw new Error(`no log line matched ${String(pattern)} within ${timeoutMs} ms`)
    await new Promise(resolve => setTimeout(resolve, 25))
  }
}
