import type { FastifyInstance } from 'fastify'
import type { Kysely } from 'kysely'
import type { Connection } from 'rabbitmq-client'
import { DEFAULT_CURRENCY } from '@orders/contracts'
import { AccessTokenDenylist, databaseAndBrokerChecks, registerServiceBasics, type Redis } from '@orders/platform'
import websocket from '@fastify/websocket'
import authentication from './plugins/authentication.ts'
import ordersRoutes from './routes/orders.ts'
import ordersWebSocketRoute from './routes/orders-ws.ts'
import type { OrderNotificationHub } from './notifications/hub.ts'
import type { StatusBindings } from './notifications/status-bindings.ts'
import { SocketLeases } from './notifications/socket-leases.ts'
import { OrderRepository } from './order-repository.ts'
import type { OrdersDatabase } from './database.ts'

export interface OrderServiceAppOptions {
  db: Kysely<OrdersDatabase>
  broker: Connection
  userServiceUrl: string
  /** Called after each commit that wrote outbox rows (wakes the in-process relay). */
  onOutboxCommitted: () => void
  /** This replica's WebSockets; fed with status events from the broker by the server. */
  hub: OrderNotificationHub
  /** The bindings of that feed (consumeStatusEvents): each socket holds its user's. Without it, sockets hear only what the hub is told directly. */
  statusBindings?: StatusBindings
  /** Counts each user's WebSockets and carries revoked tokens across replicas; without it, per replica. */
  redis?: Redis
  /** The revoked access tokens; one of its own on `redis` otherwise (tests pass one to revoke through). */
  denylist?: AccessTokenDenylist
  /** Origins besides the gateway's own that may open a WebSocket; sockets per user (20). */
  webSocket?: { allowedOrigins?: string[], maxSocketsPerUser?: number }
  /** True once shutdown has begun: /healthz answers 503 so the gateway stops sending requests. */
  isDraining?: () => boolean
  /** DEFAULT_CURRENCY (default: the contracts' DEFAULT_CURRENCY). */
  defaultCurrency?: string
  /** ORDER_GRACE_PERIOD_MS (default 0: no grace period). */
  gracePeriodMs?: number
}

/** The order-service as a plugin: the server process and the tests both register it. */
export default async function orderServiceApp (app: FastifyInstance, options: OrderServiceAppOptions): Promise<void> {
  await registerServiceBasics(app, {
    title: 'order-service',
    description: 'Orders API: place, list and read orders; status changes by the order-processor.\n\n' +
      '**A token**: every route needs a Bearer access token from the user-service, through the same gateway: ' +
      '`POST /users` `{"email": "ada@example.com", "password": "correct horse battery"}` once, then `POST /login` with the same body; ' +
      'copy `access_token` from the answer, press **Authorize** and paste it (it lasts 15 minutes). ' +
      'With curl: see "The scenario with curl" in the README.\n\n' +
      'The WebSocket and the events: `asyncapi.yaml` at the root of the repository.',
    readiness: databaseAndBrokerChecks(options.db, options.broker),
    isDraining: options.isDraining
  })
  let denylist = options.denylist
  if (denylist === undefined) {
    const own = denylist = await AccessTokenDenylist.open({ redis: options.redis, log: app.log.child({ component: 'denylist' }) })
    app.addHook('onClose', async () => { await own.close() })
  }
  await app.register(authentication, { userServiceUrl: options.userServiceUrl, denylist })
  const orderRepository = new OrderRepository({ db: options.db, onOutboxCommitted: options.onOutboxCommitted })
  await app.register(ordersRoutes, { orderRepository, defaultCurrency: options.defaultCurrency ?? DEFAULT_CURRENCY, gracePeriodMs: options.gracePeriodMs ?? 0 })
  // A client never needs to send more than a ping; 64 KiB bounds what one can make us read.
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } })
  const leases = new SocketLeases({ redis: options.redis, maxPerUser: options.webSocket?.maxSocketsPerUser ?? 20, log: app.log })
  app.addHook('onClose', async () => { leases.stop() })
  await app.register(ordersWebSocketRoute, { hub: options.hub, leases, statusBindings: options.statusBindings, denylist, allowedOrigins: options.webSocket?.allowedOrigins ?? [] })
}
