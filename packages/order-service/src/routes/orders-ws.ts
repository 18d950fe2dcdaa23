import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorResponse, SCOPES } from '@orders/contracts'
import type { OrderNotificationHub } from '../notifications/hub.ts'

/** Close code when the access token expires on an open socket: log in again, reconnect. */
export const CLOSE_TOKEN_EXPIRED = 4401

/**
 * Live status changes of the caller's own orders. Browsers cannot set headers on a WebSocket,
 * so the access token comes as the `access_token` query parameter (redacted from logs).
 * A missing, invalid or expired token is refused with 401 before the upgrade.
 */
const ordersWebSocketRoute: FastifyPluginAsyncTypebox<{ hub: OrderNotificationHub }> = async (app, { hub }) => {
  app.get('/orders/ws', {
    websocket: true,
    onRequest: app.requireWebSocketScope(SCOPES.user),
    schema: {
      tags: ['orders'],
      summary: "Live status changes of the caller's own orders (user token in ?access_token=)",
      description: 'A WebSocket. For every status change of one of your orders the server sends ' +
        '`{"type": "order.status_changed", "order": {…as GET /orders/{id}…}}`. After a reconnect, read GET /orders ' +
        'to catch up. The socket is closed with code 4401 when the token expires, 1008 when the client does not read fast enough.',
      querystring: Type.Object({ access_token: Type.String({ minLength: 1 }) }),
      response: { 401: ErrorResponse, 403: ErrorResponse }
    }
  }, (socket, request) => {
    hub.add(request.user.sub, socket)
    // The socket lives no longer than the token that opened it.
    const expiresInMs = request.user.exp * 1000 - Date.now()
    const expiry = setTimeout(() => { socket.close(CLOSE_TOKEN_EXPIRED, 'access token expired') }, Math.max(0, expiresInMs))
    socket.on('close', () => { clearTimeout(expiry) })
    // Messages from the client are not part of the protocol; ignore them.
    socket.on('message', () => {})
  })
}

export default ordersWebSocketRoute
