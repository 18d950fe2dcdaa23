import type { Test } from 'tap'
import { startIsolatedSystem } from '@orders/system'

// The end-to-end tests talk to the platform through the same gateway client as bench and chaos.
export { call, registerAndLogin, waitForOrderStatus, type HttpAnswer } from '@orders/test-support'

/**
 * The whole platform as `pnpm dev` starts it (migrations, user-service, two order-service
 * replicas, relay, processor, web app, HAProxy), on free ports, a database and a vhost of its own.
 * Process output is kept and printed only when a test fails.
 */
export async function startTestSystem (t: Test, env: Record<string, string> = {}) {
  const lines: string[] = []
  const onLog = (source: string, line: string) => { lines.push(`${source.padEnd(16)} ${line}`) }
  const isolated = await startIsolatedSystem({ env, onLog }).catch(err => {
    console.error(lines.join('\n'))
    throw err
  })
  t.teardown(async () => {
    if (!t.passing()) console.error(lines.slice(-300).join('\n'))
    await isolated.stop()
  })
  const { system, database, vhost } = isolated
  return { system, db: database.db, amqpUrl: vhost.url, lines, gateway: system.gatewayUrl }
}

/** Resolves when a log line matching `pattern` appears (now or later), within a deadline. */
export async function waitForLogLine (lines: string[], pattern: RegExp, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const found = lines.find(line => pattern.test(line))
    if (found) return found
    if (Date.now() > deadline) throw new Error(`no log line matched ${String(pattern)} within ${timeoutMs} ms`)
    await new Promise(resolve => setTimeout(resolve, 25))
  }
}
