import { placeOrder } from '@orders/test-support'

/**
 * A steady, bounded load of order creations through the gateway: `clients` people, each
 * placing orders one after another at a fixed pace, until stopped. Every answer is kept.
 */
export interface LoadAnswer {
  startedAt: number
  status: number // 0 = no HTTP answer (connection failed)
  orderId?: string
  message?: string
}

export interface LoadOptions {
  gatewayUrl: string
  tokens: string[]
  ordersPerSecond: number
}

export function startOrderLoad (options: LoadOptions) {
  const answers: LoadAnswer[] = []
  let stopped = false
  const intervalMs = (1000 * options.tokens.length) / options.ordersPerSecond
  const clients = options.tokens.map(async (token, client) => {
    for (let i = 0; !stopped; i++) {
      const startedAt = Date.now()
      answers.push(await placeOne(options.gatewayUrl, token, `chaos-${client}-${i}`, startedAt))
      const wait = startedAt + intervalMs - Date.now()
      if (wait > 0 && !stopped) await new Promise(resolve => setTimeout(resolve, wait))
    }
  })
  return {
    answers,
    async stop () {
      stopped = true
      await Promise.all(clients)
    }
  }
}

async function placeOne (gatewayUrl: string, token: string, sku: string, startedAt: number): Promise<LoadAnswer> {
  // A total over the payment limit now and then, so both final states are exercised.
  const items = [{ sku, quantity: 1, unit_price: Math.random() < 0.1 ? 10_000_001 : 1_999 }]
  try {
    const { status, body } = await placeOrder(gatewayUrl, token, items)
    return { startedAt, status, orderId: status === 201 ? body?.id : undefined, message: body?.message }
  } catch (err) {
    return { startedAt, status: 0, message: (err as Error).message }
  }
}
