/**
 * Live status changes of the signed-in person's orders: one WebSocket to /orders/ws that is
 * reopened with backoff whenever it drops. The server sends nothing it missed while the
 * socket was down, so every (re)connect is reported and the app re-reads GET /orders.
 * Each (re)connect asks the session for its current access token; after close code 4401 (the
 * token expired or was revoked) it asks for a newer one, and stops once the session has none.
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
  /** The socket's address for an access token (liveStatusUrl). */
  url: (accessToken: string) => string
  /**
   * The token to connect with: the current one, or (`rejected`: the server closed with 4401) a
   * newer one. Null: the session has ended, and the feed stops. Rejects: no server, try later.
   */
  accessToken: (rejected?: string) => Promise<string | null>
  onOrder: (order: Order) => void
  /** Open (first time or again): changes may have been missed, read GET /orders. */
  onConnected: () => void
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
  /** The token the last socket was opened with, and whether the server refused it (4401). */
  #token: { value: string, refused: boolean } | undefined
  #connecting = false
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
    if (this.#stopped || this.#socket !== undefined || this.#connecting) return
    clearTimeout(this.#timer)
    this.#connect()
  }

  #connect (): void {
    const options = this.#options
    options.onStateChange?.(this.#attempt === 0 ? 'connecting' : 'reconnecting')
    this.#connecting = true
    const previous = this.#token
    options.accessToken(previous?.refused === true ? previous.value : undefined).then(token => {
      this.#connecting = false
      if (this.#stopped) return
      if (token === null) { this.stop(); return }
      this.#token = { value: token, refused: false }
      this.#open(token)
    }, () => {
      this.#connecting = false
      if (!this.#stopped) this.#retry()
    })
  }

  #retry (): void {
    this.#options.onStateChange?.('reconnecting')
    const delay = (this.#options.reconnectDelayMs ?? reconnectDelayMs)(this.#attempt++)
    this.#timer = setTimeout(() => { this.#connect() }, delay)
  }

  #open (token: string): void {
    const options = this.#options
    const socket = (options.createSocket ?? (url => new WebSocket(url)))(options.url(token))
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
      // The token expired or was revoked: the next attempt asks for a newer one.
      if (event.code === LIVE_STATUS_CLOSE_CODES.tokenExpired) this.#token = { value: token, refused: true }
      if (openedAt === undefined) options.onConnectFailed?.()
      else if (Date.now() - openedAt >= STABLE_AFTER_MS) this.#attempt = 0
      // Too slow, replica going away, connection lost (1006), token to renew: all reconnect.
      this.#retry()
    }
  }
}
