/**
 * Live status changes of the signed-in person's orders: one WebSocket to /orders/ws that is
 * reopened with backoff whenever it drops. The server sends nothing it missed while the
 * socket was down, so every (re)connect is reported and the app re-reads GET /orders.
 * The protocol (messages, close codes) is the contracts' live-status module.
 */
import type { Order } from '@orders/contracts'
import { LIVE_STATUS_CLOSE_CODES, parseLiveStatusMessage } from '@orders/contracts/live-status'

export type FeedState = 'connecting' | 'live' | 'reconnecting' | 'stopped'

/** The part of the browser's WebSocket the feed uses (tests pass a fake). */
export interface SocketLike {
  onopen: ((event: Event) => void) | null
  onmessage: ((event: MessageEvent) => void) | null
  onclose: ((event: CloseEvent) => void) | null
  close: (code?: number, reason?: string) => void
}

export interface OrderFeedOptions {
  url: string
  onOrder: (order: Order) => void
  /** Open (first time or again): changes may have been missed, read GET /orders. */
  onConnected: () => void
  /** Closed with 4401: the person has to sign in again. The feed stops. */
  onTokenExpired: () => void
  /** An attempt that never opened (the server refused the upgrade, e.g. 401, or is down). */
  onConnectFailed?: () => void
  onStateChange?: (state: FeedState) => void
  createSocket?: (url: string) => SocketLike
  reconnectDelayMs?: (attempt: number) => number
}

/**
 * 0.5 s, 1 s, 2 s, … up to 15 s; half of it fixed, half random, so that the browsers that all
 * lost the same replica do not all come back in the same instant.
 */
export function reconnectDelayMs (attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(15_000, 500 * 2 ** attempt)
  return Math.round(ceiling / 2 + (random() * ceiling) / 2)
}

/** A socket open this long was a real connection: the next drop starts the backoff afresh. */
const STABLE_AFTER_MS = 10_000

export class OrderFeed {
  readonly #options: OrderFeedOptions
  #socket: SocketLike | undefined
  #attempt = 0
  #timer: ReturnType<typeof setTimeout> | undefined
  #stopped = false

  constructor (options: OrderFeedOptions) {
    this.#options = options
  }

  start (): void {
    this.#connect()
  }

  stop (): void {
    this.#stopped = true
    clearTimeout(this.#timer)
    const socket = this.#socket
    this.#socket = undefined
    socket?.close(1000, 'signed out')
    this.#options.onStateChange?.('stopped')
  }

  /** Skip the wait (the browser is back online). */
  reconnectNow (): void {
    if (this.#stopped || this.#socket !== undefined) return
    clearTimeout(this.#timer)
    this.#connect()
  }

  #connect (): void {
    const options = this.#options
    options.onStateChange?.(this.#attempt === 0 ? 'connecting' : 'reconnecting')
    const socket = (options.createSocket ?? (url => new WebSocket(url)))(options.url)
    this.#socket = socket
    let openedAt: number | undefined
    socket.onopen = () => {
      openedAt = Date.now()
      options.onStateChange?.('live')
      options.onConnected()
    }
    socket.onmessage = event => {
      const message = parseLiveStatusMessage(event.data)
      if (message) options.onOrder(message.order)
    }
    socket.onclose = event => {
      if (this.#socket !== socket || this.#stopped) return
      this.#socket = undefined
      if (event.code === LIVE_STATUS_CLOSE_CODES.tokenExpired) {
        this.#stopped = true
        options.onStateChange?.('stopped')
        options.onTokenExpired()
        return
      }
      if (openedAt === undefined) options.onConnectFailed?.()
      else if (Date.now() - openedAt >= STABLE_AFTER_MS) this.#attempt = 0
      // Too slow, replica going away, connection lost (1006): all reconnect.
      options.onStateChange?.('reconnecting')
      const delay = (options.reconnectDelayMs ?? reconnectDelayMs)(this.#attempt++)
      this.#timer = setTimeout(() => { this.#connect() }, delay)
    }
  }
}
