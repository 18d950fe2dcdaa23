/**
 * The live-status WebSocket: how a browser hears of its orders' status changes from the
 * order-service. The service's route and hub and the web app's feed all read this module; its
 * message schemas are in live-status-schemas.ts. It has no runtime imports, so the web app
 * takes it alone (`@orders/contracts/live-status`) without the rest of the contracts.
 */
import type { OrderStatusChangedMessage } from './live-status-schemas.ts'

export type { OrderStatusChangedMessage }

export const LIVE_STATUS_PATH = '/orders/ws'

/** Browsers cannot set headers on a WebSocket, so the access token travels in the query. */
export const LIVE_STATUS_TOKEN_PARAM = 'access_token'

/**
 * Why the server closes a socket. After every close the client reconnects and reads GET
 * /orders, because nothing missed while the socket was down is sent again; after
 * `tokenExpired` it first gets a new access token (refresh), and signs in again if it cannot.
 */
export const LIVE_STATUS_CLOSE_CODES = {
  /**
   * The access token that opened the socket has expired, or was revoked (signed out): it works
   * no more (4000–4999 are the application's own).
   */
  tokenExpired: 4401,
  /** RFC 6455 "policy violation": the client did not read fast enough and messages piled up. */
  slowConsumer: 1008,
  /** RFC 6455 "going away": the replica is shutting down; the gateway sends the reconnect elsewhere. */
  goingAway: 1001
} as const

/** `ws(s)://host/orders/ws?access_token=…` for a page served from `origin` (http(s)://host). */
export function liveStatusUrl (origin: string, accessToken: string): string {
  const url = new URL(LIVE_STATUS_PATH, origin.replace(/^http/, 'ws'))
  url.searchParams.set(LIVE_STATUS_TOKEN_PARAM, accessToken)
  return url.toString()
}

/**
 * A client's reading of one text frame: the message, or null for anything it does not know
 * (another type, added later, or not JSON). A shape check, not a full validation: the server
 * sends only what the schema says, and a browser bundle is better without a validator.
 */
export function parseLiveStatusMessage (data: unknown): OrderStatusChangedMessage | null {
  if (typeof data !== 'string') return null
  let message: { type?: unknown, order?: { id?: unknown, status?: unknown } | null } | null
  try {
    message = JSON.parse(data)
  } catch {
    return null
  }
  if (message?.type !== 'order.status_changed' || typeof message.order?.id !== 'string' || typeof message.order.status !== 'string') return null
  return message as OrderStatusChangedMessage
}
