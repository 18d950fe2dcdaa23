/** What HAProxy did towards one backend during a measurement (from its /stats;csv counters). */
export interface GatewayActivity {
  backend: string
  /** Requests HAProxy sent to the backend's servers. */
  requests: number
  /** New TCP connections it opened to them, and requests that reused an idle one. */
  connects: number
  reuses: number
}

type Counters = Map<string, { requests: number, connects: number, reuses: number }>

/**
 * Reads HAProxy's per-backend counters before and after a measurement: whether the gateway
 * keeps its connections to the services alive (connects ≪ requests) or opens one per request.
 */
export class GatewayActivityMeter {
  readonly #statsUrl: string
  #before: Counters = new Map()

  constructor (statsUrl: string) {
    this.#statsUrl = statsUrl
  }

  async start (): Promise<void> {
    this.#before = await this.#read()
  }

  async stop (): Promise<GatewayActivity[]> {
    const after = await this.#read()
    return [...after].map(([backend, now]) => {
      const then = this.#before.get(backend) ?? { requests: 0, connects: 0, reuses: 0 }
      return { backend, requests: now.requests - then.requests, connects: now.connects - then.connects, reuses: now.reuses - then.reuses }
    }).filter(activity => activity.requests > 0)
  }

  async #read (): Promise<Counters> {
    const counters: Counters = new Map()
    let text: string
    try {
      const response = await fetch(`${this.#statsUrl}/stats;csv`, { signal: AbortSignal.timeout(2_000) })
      text = await response.text()
    } catch {
      return counters // a running system on other ports: no gateway figures
    }
    const [header, ...lines] = text.split('\n')
    const columns = (header ?? '').replace(/^# /, '').split(',')
    const at = (name: string) => columns.indexOf(name)
    for (const line of lines) {
      const fields = line.split(',')
      // One BACKEND line per backend sums its servers.
      if (fields[at('svname')] !== 'BACKEND') continue
      counters.set(fields[at('pxname')]!, {
        requests: Number(fields[at('req_tot')] || fields[at('stot')] || 0),
        connects: Number(fields[at('connect')] || 0),
        reuses: Number(fields[at('reuse')] || 0)
      })
    }
    return counters
  }
}
