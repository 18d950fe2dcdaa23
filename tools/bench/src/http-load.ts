import autocannon from 'autocannon'
import { ORDER_BODY, type BenchUser } from './accounts.ts'

/** One closed-loop measurement: `connections` clients, each sending its next request as soon as the last one is answered. */
export interface HttpFigures {
  name: string
  durationS: number
  connections: number
  requests: number
  /** Answers per second, any status. */
  rps: number
  /** 2xx answers per second: what the ratios use. */
  okRps: number
  p50Ms: number
  p99Ms: number
  maxMs: number
  non2xx: number
  status4xx: number
  status5xx: number
  /** Connection errors and timeouts (no HTTP answer). */
  errors: number
}

export interface HttpScenario {
  name: string
  /** The autocannon options that make this scenario's requests (url, method, body, headers). */
  requests: Partial<autocannon.Options>
}

export function postOrdersScenario (gatewayUrl: string, users: BenchUser[]): HttpScenario {
  return {
    name: 'POST /orders',
    requests: {
      url: `${gatewayUrl}/orders`,
      method: 'POST',
      body: ORDER_BODY,
      setupClient: userPerConnection(users, { 'content-type': 'application/json' })
    }
  }
}

export function getOrderScenario (gatewayUrl: string, users: BenchUser[]): HttpScenario {
  // Round robin over every user's own orders, each read with its owner's token.
  let next = 0
  return {
    name: 'GET /orders/{id}',
    requests: {
      url: `${gatewayUrl}/orders`,
      requests: [{
        method: 'GET',
        setupRequest: request => {
          const user = users[next % users.length]!
          const id = user.orderIds[Math.floor(next / users.length) % user.orderIds.length]!
          next++
          return { ...request, path: `/orders/${id}`, headers: { ...request.headers, authorization: `Bearer ${user.token}` } }
        }
      }]
    }
  }
}

export function listOrdersScenario (gatewayUrl: string, users: BenchUser[]): HttpScenario {
  return {
    name: 'GET /orders?limit=20',
    requests: { url: `${gatewayUrl}/orders?limit=20`, method: 'GET', setupClient: userPerConnection(users, {}) }
  }
}

export function loginScenario (gatewayUrl: string, user: BenchUser): HttpScenario {
  return {
    name: 'POST /login',
    requests: {
      url: `${gatewayUrl}/login`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: user.email, password: user.password })
    }
  }
}

/** Runs one scenario with autocannon for a fixed time; it stops by itself. */
export async function measureHttp (scenario: HttpScenario, options: { durationS: number, connections: number }): Promise<HttpFigures> {
  const result = await autocannon({
    ...scenario.requests,
    url: scenario.requests.url!,
    connections: options.connections,
    duration: options.durationS,
    // A request unanswered for 10 s counts as a timeout (an error), not as a latency.
    timeout: 10
  })
  const answered = result['1xx'] + result['2xx'] + result['3xx'] + result['4xx'] + result['5xx']
  return {
    name: scenario.name,
    durationS: result.duration,
    connections: options.connections,
    requests: answered,
    rps: answered / result.duration,
    okRps: result['2xx'] / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    non2xx: result.non2xx,
    status4xx: result['4xx'],
    status5xx: result['5xx'],
    errors: result.errors
  }
}

/** Gives each autocannon connection one user's token, in turn, so the load spreads over the users. */
function userPerConnection (users: BenchUser[], headers: Record<string, string>): (client: autocannon.Client) => void {
  let next = 0
  return client => {
    const user = users[next++ % users.length]!
    client.setHeaders({ ...headers, authorization: `Bearer ${user.token}` })
  }
}
