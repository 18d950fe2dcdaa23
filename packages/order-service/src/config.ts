import { Type, type Static } from '@sinclair/typebox'
import { DEFAULT_CURRENCY } from '@orders/contracts'
import { commonConfigProperties, redisConfigProperties, serviceConnectionProperties } from '@orders/platform'

export const OrderServiceConfig = Type.Object({
  ...commonConfigProperties,
  ...serviceConnectionProperties('order-service'),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3002 }),
  /** Tells replicas apart in logs. */
  INSTANCE_ID: Type.String({ default: 'order-service' }),
  /** Where the JWKS of the token issuer is fetched (`/.well-known/jwks.json`). */
  USER_SERVICE_URL: Type.String({ default: 'http://127.0.0.1:3001' }),
  /** The in-process relay is woken on every commit; this poll only catches rows a crashed replica left. */
  RELAY_POLL_INTERVAL_MS: Type.Integer({ minimum: 10, default: 1_000 }),
  /**
   * On SIGTERM, /healthz answers 503 for this long before the server stops taking requests:
   * HAProxy checks every second and needs two failures (haproxy.cfg) to stop routing here.
   */
  SHUTDOWN_DRAIN_MS: Type.Integer({ minimum: 0, maximum: 60_000, default: 2_500 }),
  /**
   * How long a new order waits before the processor may take it, so its owner can still cancel
   * it (doc/delivery.md, "The grace period"). An hour at most: longer is a different feature.
   */
  ORDER_GRACE_PERIOD_MS: Type.Integer({ minimum: 0, maximum: 3_600_000, default: 5_000 }),
  /** The currency of an order whose request names none (ISO 4217). */
  DEFAULT_CURRENCY: Type.String({ format: 'iso-4217', default: DEFAULT_CURRENCY }),
  ...redisConfigProperties,
  /**
   * Comma-separated origins (https://shop.example) whose pages may open the WebSocket, besides
   * the gateway's own, which always may (the Origin's host equals the request's Host).
   */
  ALLOWED_ORIGINS: Type.String({ default: '' }),
  /** Live status sockets one user may hold open across all replicas. */
  MAX_SOCKETS_PER_USER: Type.Integer({ minimum: 1, maximum: 1000, default: 20 })
})
export type OrderServiceConfig = Static<typeof OrderServiceConfig>

export const RelayConfig = Type.Object({
  ...commonConfigProperties,
  // The relay publishes the order-service's events: its account too.
  ...serviceConnectionProperties('order-service'),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3004 }),
  RELAY_POLL_INTERVAL_MS: Type.Integer({ minimum: 10, default: 250 })
})
export type RelayConfig = Static<typeof RelayConfig>
