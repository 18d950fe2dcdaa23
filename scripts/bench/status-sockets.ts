import { performance } from 'node:perf_hooks'
import WebSocket from 'ws'
import type { BenchUser } from './accounts.ts'

const FINAL_STATUSES = new Set(['completed', 'failed', 'cancelled'])

/**
 * One WebSocket per user on GET /orders/ws, through the gateway: reports the moment each of
 * their orders reaches a final status, as a person watching the page would see it.
 */
export class StatusSockets {
  readonly #sockets: WebSocket[]
  #closing = false
  /** Sockets that closed before `close()`: their users' completions are no longer seen. */
  unexpectedCloses = 0
  onFinal: (orderId: string, status: string, at: number) => void = () => {}
  /** Every status change, final or not (the pipeline splits its latency at `processing`). */
  onStatus: (orderId: string, status: string, at: number) => void = () => {}

  private constructor (sockets: WebSocket[]) {
    this.#sockets = sockets
    for (const socket of sockets) {
      socket.on('message', data => { this.#read(data as Buffer) })
      socket.on('close', () => { if (!this.#closing) this.unexpectedCloses++ })
    }
  }

  static async open (gatewayUrl: string, users: BenchUser[]): Promise<StatusSockets> {
    const base = gatewayUrl.replace(/^http/, 'ws')
    const sockets = await Promise.all(users.map(async user => await new Promise<WebSocket>((resolve, reject) => {
      const socket = new WebSocket(`${base}/orders/ws?access_token=${encodeURIComponent(user.token)}`)
      const timer = setTimeout(() => { socket.terminate(); reject(new Error('the WebSocket /orders/ws did not open within 10 s')) }, 10_000)
      socket.once('open', () => { clearTimeout(timer); resolve(socket) })
      socket.once('unexpected-response', (_request, response) => { clearTimeout(timer); reject(new Error(`the WebSocket /orders/ws was refused: ${response.statusCode}`)) })
      socket.once('error', err => { clearTimeout(timer); reject(err) })
    })))
    return new StatusSockets(sockets)
  }

  #read (data: Buffer): void {
    const at = performance.now()
    let message: { type?: string, order?: { id?: string, status?: string } }
    try { message = JSON.parse(data.toString('utf8')) } catch { return }
    const order = message.order
    if (message.type !== 'order.status_changed' || typeof order?.id !== 'string' || typeof order.status !== 'string') return
    this.onStatus(order.id, order.status, at)
    if (FINAL_STATUSES.has(order.status)) this.onFinal(order.id, order.status, at)
  }

  async close (): Promise<void> {
    this.#closing = true
    await Promise.all(this.#sockets.map(async socket => await new Promise<void>(resolve => {
      if (socket.readyState === WebSocket.CLOSED) return resolve()
      const timer = setTimeout(() => { socket.terminate(); resolve() }, 2_000)
      socket.once('close', () => { clearTimeout(timer); resolve() })
      socket.close(1000, 'bench done')
    })))
  }
}
