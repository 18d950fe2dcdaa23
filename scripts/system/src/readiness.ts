/**
 * When a process counts as ready: a service when GET /readyz answers 200; HAProxy when its own
 * health checks (its status page, /stats;csv) see the services up and /orders gets through.
 */
import http from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import type { ExitStatus } from './child.ts'

/** What waitUntilAllReady needs of a process. */
export interface Probed {
  readonly name: string
  readonly running: boolean
  readonly exited: Promise<ExitStatus>
  probe: () => Promise<string | null>
  lastLines: (count?: number) => string[]
}

/**
 * Probes every process every 250 ms until all are ready. Fails at once, with its last output
 * lines, when one exits first; at the deadline, with each pending process's last reason.
 */
export async function waitUntilAllReady (children: Probed[], deadline: number, signal?: AbortSignal): Promise<void> {
  const pending = new Set(children)
  const reasons = new Map<Probed, string>()
  let failure: Error | undefined
  for (const child of children) {
    void child.exited.then(status => {
      if (!pending.has(child)) return
      const how = status.signal ? `on ${status.signal}` : `with code ${status.code}`
      failure ??= new Error(`${child.name} exited ${how} before it was ready. Its last lines:\n${indent(child.lastLines(30))}`)
    })
  }
  while (pending.size > 0) {
    signal?.throwIfAborted()
    if (failure) throw failure
    if (Date.now() > deadline) {
      const report = [...pending].map(child =>
        `${child.name}: ${reasons.get(child) ?? 'not probed yet'}\n  last lines:\n${indent(child.lastLines(15), '    ')}`)
      throw new Error(`not ready in time:\n${report.join('\n')}`)
    }
    await Promise.all([...pending].map(async child => {
      if (!child.running) return
      const reason = await child.probe()
      if (reason === null) pending.delete(child)
      else reasons.set(child, reason)
    }))
    if (pending.size > 0) await sleep(250)
  }
}

/** null when GET <baseUrl>/readyz answers 200, otherwise why not. */
export async function probeReadyz (baseUrl: string): Promise<string | null> {
  try {
    const { status, body } = await httpGet(`${baseUrl}/readyz`)
    return status === 200 ? null : `GET /readyz answered ${status} ${body.slice(0, 300)}`
  } catch (err) {
    return `GET /readyz failed: ${(err as Error).message}`
  }
}

/** null when HAProxy's health checks see every checked server up and /orders gets through. */
export async function probeGateway (gatewayUrl: string, statsUrl: string, servers: readonly string[]): Promise<string | null> {
  const notUp = await probeGatewayServers(statsUrl, servers)
  if (notUp !== null) return notUp
  try {
    const orders = await httpGet(`${gatewayUrl}/orders`)
    return [502, 503, 504].includes(orders.status) ? `GET /orders through the gateway answered ${orders.status}` : null
  } catch (err) {
    return `GET /orders through the gateway failed: ${(err as Error).message}`
  }
}

/** null when HAProxy's health checks see every one of `servers` ("backend/server") up. */
export async function probeGatewayServers (statsUrl: string, servers: readonly string[]): Promise<string | null> {
  try {
    const stats = await httpGet(`${statsUrl}/stats;csv`)
    // CSV columns: pxname, svname, ..., the 18th is status ("UP", "DOWN", "UP 1/2", ...).
    const status = new Map(stats.body.split('\n').map(line => line.split(',')).map(f => [`${f[0]}/${f[1]}`, f[17] ?? '']))
    const notUp = servers.filter(server => !status.get(server)?.startsWith('UP'))
    return notUp.length === 0 ? null : `HAProxy does not see these servers up yet: ${notUp.map(s => `${s} (${status.get(s) ?? 'unknown'})`).join(', ')}`
  } catch (err) {
    return `HAProxy's status page does not answer: ${(err as Error).message}`
  }
}

async function httpGet (url: string, timeoutMs = 1_000): Promise<{ status: number, body: string }> {
  return await new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false, timeout: timeoutMs }, response => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => { body += chunk })
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }))
      response.on('error', reject)
    })
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)))
    request.on('error', reject)
  })
}

function indent (lines: string[], prefix = '  '): string {
  return lines.length > 0 ? lines.map(line => prefix + line).join('\n') : `${prefix}(no output)`
}
