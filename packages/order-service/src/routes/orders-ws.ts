import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses, LIVE_STATUS_CLOSE_CODES, LIVE_STATUS_PATH, LIVE_STATUS_TOKEN_PARAM, LiveStatusQuery, SCOPES } from '@orders/contracts'
import type { OrderNotificationHub } from '../notifications/hub.ts'

/**
 * Live status changes of the caller's own orders (the protocol: contracts/src/live-status.ts).
 * Browsers cannot set headers on a WebSocket, so the access token comes as a query parameter
 * (redacted from logs). A missing, invalid or expired token is refused with 401 before the upgrade.
 */
const ordersWebSocketRoute: FastifyPluginAsyncTypebox<{ hub: OrderNotificationHub }> = async (app, { hub }) => {
  // @fastify/websocket hides every WebSocket route from OpenAPI; this one is part of the API.
  // Runs after its hook, which belongs to the parent instance.
  app.addHook('onRoute', route => { if (route.websocket === true && route.schema) route.schema.hide = false })

  app.get(LIVE_STATUS_PATH, {
    websocket: true,
    onRequest: app.requireWebSocketScope(SCOPES.user),
    schema: {
      tags: ['orders'],
      summary: `Live status changes of the caller's own orders (user token in ?${LIVE_STATUS_TOKEN_PARAM}=)`,
      description: 'A WebSocket. For every status change of one of your orders the server sends ' +
        '`{"type": "order.status_changed", "order": {…as GET /orders/{id}…}}`. After a reconnect, read GET /orders ' +
        `to catch up. The socket is closed with code ${LIVE_STATUS_CLOSE_CODES.tokenExpired} when the token expires, ` +
        `${LIVE_STATUS_CLOSE_CODES.slowConsumer} when the client does not read fast enough, ` +
        `${LIVE_STATUS_CLOSE_CODES.goingAway} when the replica shuts down.`,
      querystring: LiveStatusQuery,
      response: { 101: Type.Null({ description: 'Switching Protocols: the socket is open' }), ...errorResponses(401, 403) }
    }
  }, (socket, request) => {
    hub.add(request.user.sub, socket)
    // The socket lives no longer than the token that opened it.
    const expiresInMs = request.user.exp * 1000 - Date.now()
    const expiry = setTimeout(() => { socket.close(LIVE_STATUS_CLOSE_CODES.tokenExpired, 'access token expired') }, Math.max(0, expiresInMs))
    socket.on('close', () => { clearTimeout(expiry) })
    // Messages from the client are not part of the protocol; ignore them.
    socket.on('message', () => {})
  })
}

export default ordersWebSocketRoute
