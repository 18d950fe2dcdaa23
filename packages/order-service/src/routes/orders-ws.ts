import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses, LIVE_STATUS_CLOSE_CODES, LIVE_STATUS_PATH, LIVE_STATUS_TOKEN_PARAM, LiveStatusQuery, SCOPES } from '@orders/contracts'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'
import type { AccessTokenDenylist } from '@orders/platform'
import type { OrderNotificationHub } from '../notifications/hub.ts'
import type { SocketLeases } from '../notifications/socket-leases.ts'
import type { StatusBindings } from '../notifications/status-bindings.ts'

export interface OrdersWebSocketOptions {
  hub: OrderNotificationHub
  leases: SocketLeases
  /** This replica's queue bindings: each socket holds its user's; none, and the socket hears only what the hub is told directly (route tests). */
  statusBindings?: StatusBindings
  /** A socket whose token is revoked is closed like one whose token expired. */
  denylist: AccessTokenDenylist
  /** Origins besides the gateway's own (the request's Host) whose pages may open the socket. */
  allowedOrigins: readonly string[]
}

/**
 * Live status changes of the caller's own orders (the protocol: contracts/src/live-status.ts).
 * Browsers cannot set headers on a WebSocket, so the access token comes as a query parameter
 * (redacted from logs). A missing, invalid or expired token is refused with 401 before the upgrade.
 */
const ordersWebSocketRoute: FastifyPluginAsyncTypebox<OrdersWebSocketOptions> = async (app, { hub, leases, statusBindings, denylist, allowedOrigins }) => {
  // The open sockets by the jti of the token that opened them, so a revocation closes them.
  const socketsByToken = new Map<string, Set<WebSocket>>()
  const stopListening = denylist.onRevoked(jti => {
    for (const socket of socketsByToken.get(jti) ?? []) socket.close(LIVE_STATUS_CLOSE_CODES.tokenExpired, 'access token revoked')
  })
  app.addHook('onClose', async () => { stopListening() })

  // A browser sends the Origin of the page that opens the socket; a page on another site must
  // not use a visitor's token through it. Clients that are not browsers send none.
  async function checkOrigin (request: FastifyRequest): Promise<void> {
    const origin = request.headers.origin
    if (origin === undefined || allowedOrigins.includes(origin)) return
    let host: string | undefined
    try { host = new URL(origin).host } catch {}
    if (host === undefined || host !== request.headers.host) throw app.httpErrors.forbidden('This origin may not open the live status socket')
  }
  // Refused before the upgrade, so the client sees a plain 429.
  async function takeLease (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const leaseId = await leases.acquire(request.user.sub)
    if (leaseId === undefined) {
      void reply.header('retry-after', '60')
      throw app.httpErrors.tooManyRequests('Too many live status sockets are open for this user; close one first')
    }
    leaseIds.set(request, leaseId)
  }
  const leaseIds = new WeakMap<FastifyRequest, string>()
  // The user's binding is in place before the 101, so a change made right after the socket
  // opened reaches it. The watch is held by the TCP connection, not the WebSocket: it ends
  // however the connection does, also when the upgrade never completes.
  async function watchOwnOrders (request: FastifyRequest): Promise<void> {
    if (statusBindings === undefined) return
    const unwatch = await statusBindings.watch(request.user.sub)
    const connection = request.raw.socket
    if (connection.destroyed) unwatch()
    else connection.once('close', unwatch)
  }

  // @fastify/websocket hides every WebSocket route from OpenAPI; this one is part of the API.
  // Runs after its hook, which belongs to the parent instance.
  app.addHook('onRoute', route => { if (route.websocket === true && route.schema) route.schema.hide = false })

  app.get(LIVE_STATUS_PATH, {
    websocket: true,
    onRequest: [checkOrigin, app.requireWebSocketScope(SCOPES.user)],
    preHandler: [takeLease, watchOwnOrders],
    schema: {
      tags: ['orders'],
      summary: `Live status changes of the caller's own orders (user token in ?${LIVE_STATUS_TOKEN_PARAM}=)`,
      description: 'A WebSocket. For every status change of one of your orders the server sends ' +
        '`{"type": "order.status_changed", "order": {…as GET /orders/{id}…}}`. After a reconnect, read GET /orders ' +
        `to catch up. The socket is closed with code ${LIVE_STATUS_CLOSE_CODES.tokenExpired} when the token expires or is revoked (signed out): ` +
        'open it again with a fresh token (refresh), or sign in again if there is none; ' +
        `${LIVE_STATUS_CLOSE_CODES.slowConsumer} when the client does not read fast enough, ` +
        `${LIVE_STATUS_CLOSE_CODES.goingAway} when the replica shuts down.`,
      querystring: LiveStatusQuery,
      response: { 101: Type.Null({ description: 'Switching Protocols: the socket is open' }), ...errorResponses(401, 403, 429) }
    }
  }, (socket, request) => {
    hub.add(request.user.sub, socket)
    const leaseId = leaseIds.get(request)
    if (leaseId !== undefined) socket.on('close', () => { leases.release(request.user.sub, leaseId) })
    // The socket lives no longer than the token that opened it: until it expires, or is revoked.
    const expiresInMs = request.user.exp * 1000 - Date.now()
    const expiry = setTimeout(() => { socket.close(LIVE_STATUS_CLOSE_CODES.tokenExpired, 'access token expired') }, Math.max(0, expiresInMs))
    const { jti } = request.user
    let sockets = socketsByToken.get(jti)
    if (sockets === undefined) socketsByToken.set(jti, sockets = new Set())
    sockets.add(socket)
    socket.on('close', () => {
      clearTimeout(expiry)
      sockets.delete(socket)
      if (sockets.size === 0 && socketsByToken.get(jti) === sockets) socketsByToken.delete(jti)
    })
    // Messages from the client are not part of the protocol; ignore them.
    socket.on('message', () => {})
  })
}

export default ordersWebSocketRoute
