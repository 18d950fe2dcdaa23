import { Type, type Static } from '@sinclair/typebox'
import { commonConfigProperties } from '@orders/platform'

export const OrderServiceConfig = Type.Object({
  ...commonConfigProperties,
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
  SHUTDOWN_DRAIN_MS: Type.Integer({ minimum: 0, maximum: 60_000, default: 2_500 })
})
export type OrderServiceConfig = Static<typeof OrderServiceConfig>

export const RelayConfig = Type.Object({
  ...commonConfigProperties,
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3004 }),
  RELAY_POLL_INTERVAL_MS: Type.Integer({ minimum: 10, default: 250 })
})
export type RelayConfig = Static<typeof RelayConfig>
