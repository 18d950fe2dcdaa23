import { randomUUID } from 'node:crypto'

export interface BenchUser {
  id: string
  email: string
  password: string
  token: string
  /** Orders placed for this user before the measurements (at least `ordersEach`). */
  orderIds: string[]
}

/** The order every measurement places: two lines, like the README's example. */
export const ORDER_BODY = JSON.stringify({
  items: [{ sku: 'BENCH-BOOK', quantity: 3, unit_price: 499 }, { sku: 'BENCH-PEN', quantity: 1, unit_price: 100 }]
})

/**
 * Registers `count` users through the gateway, logs them in and places `ordersEach` orders for
 * each, so that GET /orders/{id} has ids to read and GET /orders?limit=20 a full page.
 */
export async function createBenchUsers (gatewayUrl: string, runId: string, count: number, ordersEach: number): Promise<BenchUser[]> {
  return await Promise.all(Array.from({ length: count }, async (_, i) => {
    const email = `bench-${runId}-${i}@example.com`
    const password = `bench password ${randomUUID()}`
    const { id } = await postJson(gatewayUrl, '/users', { email, password }, 201) as { id: string }
    const login = await postJson(gatewayUrl, '/login', { email, password }, 200) as { access_token: string }
    const token = login.access_token
    const orderIds: string[] = []
    for (let n = 0; n < ordersEach; n++) {
      const order = await postJson(gatewayUrl, '/orders', ORDER_BODY, 201, token) as { id: string }
      orderIds.push(order.id)
    }
    return { id, email, password, token, orderIds }
  }))
}

async function postJson (gatewayUrl: string, path: string, body: unknown, expected: number, token?: string): Promise<unknown> {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (token) headers.authorization = `Bearer ${token}`
  const response = await fetch(`${gatewayUrl}${path}`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000)
  })
  const text = await response.text()
  if (response.status !== expected) throw new Error(`POST ${path} answered ${response.status} (expected ${expected}): ${text.slice(0, 300)}`)
  return JSON.parse(text)
}
