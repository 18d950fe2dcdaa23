import { randomUUID } from 'node:crypto'
import { placeOrder, registerAndLogin, type OrderLine } from '@orders/test-support'

export interface BenchUser {
  id: string
  email: string
  password: string
  token: string
  /** Orders placed for this user before the measurements (at least `ordersEach`). */
  orderIds: string[]
}

/** The order every measurement places: two lines, like the README's example. */
export const ORDER_ITEMS: OrderLine[] = [{ sku: 'BENCH-BOOK', quantity: 3, unit_price: 499 }, { sku: 'BENCH-PEN', quantity: 1, unit_price: 100 }]
export const ORDER_BODY = JSON.stringify({ items: ORDER_ITEMS })

/**
 * Registers `count` users through the gateway, logs them in and places `ordersEach` orders for
 * each, so that GET /orders/{id} has ids to read and GET /orders?limit=20 a full page.
 */
export async function createBenchUsers (gatewayUrl: string, runId: string, count: number, ordersEach: number): Promise<BenchUser[]> {
  return await Promise.all(Array.from({ length: count }, async (_, i) => {
    const email = `bench-${runId}-${i}@example.com`
    const password = `bench password ${randomUUID()}`
    const { user, token } = await registerAndLogin(gatewayUrl, email, password)
    const orderIds: string[] = []
    for (let n = 0; n < ordersEach; n++) {
      const placed = await placeOrder(gatewayUrl, token, ORDER_ITEMS)
      if (placed.status !== 201) throw new Error(`POST /orders answered ${placed.status}: ${JSON.stringify(placed.body).slice(0, 300)}`)
      orderIds.push(placed.body.id)
    }
    return { id: user.id, email, password, token, orderIds }
  }))
}
