import { watchOrders, type OrderWatch } from '@orders/test-support'
import type { BenchUser } from './accounts.ts'

const FINAL_STATUSES = new Set(['completed', 'failed', 'cancelled'])

/**
 * One WebSocket per user on GET /orders/ws, through the gateway: reports the moment each of
 * their orders changes status, as a person watching the page would see it.
 */
export class StatusSockets {
  readonly #watches: OrderWatch[] = []
  onFinal: (orderId: string, status: string, at: number) => void = () => {}
  /** Every status change, final or not (the pipeline splits its latency at `processing`). */
  onStatus: (orderId: string, status: string, at: number) => void = () => {}

  /** Sockets that closed before `close()`: their users' completions are no longer seen. */
  get unexpectedCloses (): number {
    return this.#watches.filter(watch => watch.closedUnexpectedly).length
  }

  static async open (gatewayUrl: string, users: BenchUser[]): Promise<StatusSockets> {
    const sockets = new StatusSockets()
    const opened = await Promise.allSettled(users.map(async user => await watchOrders(gatewayUrl, user.token, (order, at) => {
      sockets.onStatus(order.id, order.status, at)
      if (FINAL_STATUSES.has(order.status)) sockets.onFinal(order.id, order.status, at)
    })))
    for (const result of opened) if (result.status === 'fulfilled') sockets.#watches.push(result.value)
    const failed = opened.find(result => result.status === 'rejected')
    if (failed) {
      await sockets.close()
      throw failed.reason
    }
    return sockets
  }

  async close (): Promise<void> {
    await Promise.all(this.#watches.map(async watch => { await watch.close() }))
  }
}
