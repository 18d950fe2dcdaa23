import type { Test } from 'tap'
import { startIsolatedSystem } from '@orders/system'

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

export interface HttpAnswer { status: number, body: any, headers: Headers }

export async function call (url: string, init: { method?: string, token?: string, body?: unknown, headers?: Record<string, string> } = {}): Promise<HttpAnswer> {
  const headers: Record<string, string> = { ...init.headers }
  if (init.token) headers.authorization = `Bearer ${init.token}`
  if (init.body !== undefined) headers['content-type'] ??= 'application/json'
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
    signal: AbortSignal.timeout(15_000)
  })
  const text = await response.text()
  let body: unknown = text
  try { body = JSON.parse(text) } catch {}
  return { status: response.status, body, headers: response.headers }
}

/** Polls an order (through the gateway) until it reaches one of `statuses`, within a deadline. */
export async function waitForOrderStatus (gateway: string, token: string, id: string, statuses: string[], timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs
  const seen: string[] = []
  for (;;) {
    const { body } = await call(`${gateway}/orders/${id}`, { token })
    if (seen.at(-1) !== body.status) seen.push(body.status)
    if (statuses.includes(body.status)) return { order: body, seen }
    if (Date.now() > deadline) throw new Error(`order ${id} still ${body.status} after ${timeoutMs} ms (seen: ${seen.join(' → ')})`)
    await new Promise(resolve => setTimeout(resolve, 25))
  }
}

export async function registerAndLogin (gateway: string, email: string, password = 'correct horse battery') {
  const registered = await call(`${gateway}/users`, { method: 'POST', body: { email, password } })
  if (registered.status !== 201) throw new Error(`register answered ${registered.status}: ${JSON.stringify(registered.body)}`)
  const login = await call(`${gateway}/login`, { method: 'POST', body: { email, password } })
  if (login.status !== 200) throw new Error(`login answered ${login.status}: ${JSON.stringify(login.body)}`)
  return { user: registered.body, token: login.body.access_token as string }
}
