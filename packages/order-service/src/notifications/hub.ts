import type { WebSocket } from 'ws'
import { LIVE_STATUS_CLOSE_CODES, type Order, type OrderStatusChangedMessage } from '@orders/contracts'
import type { Logger } from '@orders/platform'
import { orderMetrics } from '../order-metrics.ts'

export interface NotificationHubOptions {
  log: Logger
  /**
   * Bytes a socket may have queued but not yet sent. A client that stops reading would
   * otherwise make the server buffer every later message; past this it is closed and, when
   * it reconnects, resynchronises with GET /orders.
   */
  maxBufferedBytes?: number
  /** A socket that has not answered the previous ping by the next one is dead. */
  heartbeatIntervalMs?: number
}

// The heartbeat visits one slice of the sockets per tick, HEARTBEAT_SLICES ticks per interval:
// thousands of sockets are pinged a few hundred at a time, not all in one burst that would
// delay every status push behind it (doc/performance.md, "Audience growth").
const HEARTBEAT_SLICES = 10

/**
 * The WebSockets of this replica, by user. Every status change of an order is sent to its
 * owner's sockets and to nobody else's.
 */
export class OrderNotificationHub {
  readonly #socketsByUser = new Map<string, Set<WebSocket>>()
  readonly #alive = new WeakSet<WebSocket>()
  readonly #log: Logger
  readonly #maxBufferedBytes: number
  readonly #heartbeat: NodeJS.Timeout
  /** Each socket in one slice, given round-robin: each slice is checked once per heartbeat interval. */
  readonly #heartbeatSlices = Array.from({ length: HEARTBEAT_SLICES }, () => new Set<WebSocket>())
  #nextSlice = 0
  #tick = 0

  constructor (options: NotificationHubOptions) {
    this.#log = options.log
    this.#maxBufferedBytes = options.maxBufferedBytes ?? 1024 * 1024
    const intervalMs = options.heartbeatIntervalMs ?? 30_000
    this.#heartbeat = setInterval(() => { this.#checkHeartbeats() }, intervalMs / HEARTBEAT_SLICES)
    this.#heartbeat.unref()
  }

  get connectionCount (): number {
    let count = 0
    for (const sockets of this.#socketsByUser.values()) count += sockets.size
    return count
  }

  add (userId: string, socket: WebSocket): void {
    let sockets = this.#socketsByUser.get(userId)
    if (!sockets) this.#socketsByUser.set(userId, sockets = new Set())
    sockets.add(socket)
    orderMetrics.webSocketConnections.inc()
    this.#alive.add(socket)
    const slice = this.#heartbeatSlices[this.#nextSlice++ % HEARTBEAT_SLICES]!
    slice.add(socket)
    socket.on('pong', () => { this.#alive.add(socket) })
    socket.on('close', () => {
      orderMetrics.webSocketConnections.dec()
      slice.delete(socket)
      sockets.delete(socket)
      if (sockets.size === 0 && this.#socketsByUser.get(userId) === sockets) this.#socketsByUser.delete(userId)
    })
  }

  /** Sends the order's new state to its owner's sockets on this replica. */
  notifyStatusChanged (order: Order): void {
    const sockets = this.#socketsByUser.get(order.user_id)
    if (!sockets) return
    const message: OrderStatusChangedMessage = { type: 'order.status_changed', order }
    const text = JSON.stringify(message)
    for (const socket of sockets) {
      if (socket.readyState !== socket.OPEN) continue
      if (socket.bufferedAmount + text.length > this.#maxBufferedBytes) {
        this.#log.warn({ user_id: order.user_id, buffered: socket.bufferedAmount }, 'closing a WebSocket that does not keep up')
        // Forget it now: a stuck client may never complete the closing handshake (ws destroys
        // the connection after its close timeout).
        sockets.delete(socket)
        socket.close(LIVE_STATUS_CLOSE_CODES.slowConsumer, 'too many unsent messages; reconnect and reload')
        continue
      }
      socket.send(text)
    }
  }

  /** Closes every socket (shutdown): clients reconnect to another replica. */
  closeAll (): void {
    clearInterval(this.#heartbeat)
    for (const sockets of this.#socketsByUser.values()) {
      for (const socket of sockets) socket.close(LIVE_STATUS_CLOSE_CODES.goingAway, 'server going away')
    }
  }

  /** One slice: a socket that did not answer its previous ping (one interval ago) is dead. */
  #checkHeartbeats (): void {
    const slice = this.#heartbeatSlices[this.#tick++ % HEARTBEAT_SLICES]!
    for (const socket of slice) {
      if (!this.#alive.has(socket)) { socket.terminate(); continue }
      this.#alive.delete(socket)
      socket.ping()
    }
  }
}
