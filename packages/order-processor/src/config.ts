import { Type, type Static } from '@sinclair/typebox'
import { DEFAULT_RETRY_DELAYS_MS } from '@orders/contracts'
import { commonConfigProperties, loadConfig, serviceConnectionProperties } from '@orders/platform'

const HttpUrl = (defaultValue?: string) => Type.String({ pattern: '^https?://', ...(defaultValue ? { default: defaultValue } : {}) })

export const ProcessorConfigSchema = Type.Object({
  /** DATABASE_URL: the processor's own schema `processor` (payments) lives there. */
  ...serviceConnectionProperties('order-processor'),
  DATABASE_POOL_SIZE: commonConfigProperties.DATABASE_POOL_SIZE,
  LOG_LEVEL: commonConfigProperties.LOG_LEVEL,
  HOST: commonConfigProperties.HOST,
  /** Health and readiness only; the processor serves no API. */
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3005 }),
  /** The order-service is called through the gateway, like every other client. */
  GATEWAY_URL: HttpUrl('http://127.0.0.1:8080'),
  /** Defaults to `${GATEWAY_URL}/oauth/token`. */
  TOKEN_URL: Type.Optional(HttpUrl()),
  PROCESSOR_CLIENT_ID: Type.String({ minLength: 1, default: 'order-processor' }),
  PROCESSOR_CLIENT_SECRET: Type.String({ minLength: 1 }),
  /** Orders above this total (minor units) are declined; 10 000 000 = 100 000.00. */
  PAYMENT_LIMIT: Type.Integer({ minimum: 0, default: 10_000_000 }),
  /** Simulated payment-provider latency before an order is completed. */
  PROCESSING_DELAY_MS: Type.Integer({ minimum: 0, maximum: 600_000, default: 0 }),
  /** Unacknowledged messages held (and worked on) at once by this process. */
  PROCESSOR_PREFETCH: Type.Integer({ minimum: 1, maximum: 1000, default: 16 }),
  /**
   * Milliseconds a message waits before each retry of a transient failure, comma-separated;
   * after the last one it goes to the dead-letter queue. One delay queue per value.
   */
  RETRY_DELAYS_MS: Type.String({ pattern: '^\\d+(,\\d+)*$', default: DEFAULT_RETRY_DELAYS_MS.join(',') }),
  /** Replicas of each new quorum queue (`x-quorum-initial-group-size`); unset on a single-node broker. */
  QUORUM_INITIAL_GROUP_SIZE: Type.Optional(Type.Integer({ minimum: 1, maximum: 99 }))
})

export type ProcessorConfig = Omit<Static<typeof ProcessorConfigSchema>, 'TOKEN_URL' | 'RETRY_DELAYS_MS'> & {
  TOKEN_URL: string
  RETRY_DELAYS_MS: number[]
}

// A day: RabbitMQ takes larger TTLs, but a retry that far away is a dead letter in disguise.
const MAX_RETRY_DELAY_MS = 86_400_000

export function loadProcessorConfig (env: NodeJS.ProcessEnv = process.env): ProcessorConfig {
  const config = loadConfig(ProcessorConfigSchema, env)
  const gatewayUrl = config.GATEWAY_URL.replace(/\/+$/, '')
  const retryDelaysMs = config.RETRY_DELAYS_MS.split(',').map(Number)
  if (retryDelaysMs.some(delay => delay < 1 || delay > MAX_RETRY_DELAY_MS)) {
    throw new Error(`Invalid configuration from the environment:\n  RETRY_DELAYS_MS: every delay must be between 1 and ${MAX_RETRY_DELAY_MS} ms, got "${config.RETRY_DELAYS_MS}"`)
  }
  return { ...config, GATEWAY_URL: gatewayUrl, TOKEN_URL: config.TOKEN_URL ?? `${gatewayUrl}/oauth/token`, RETRY_DELAYS_MS: retryDelaysMs }
}
