import { Type, type Static, type TObject, type TProperties } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import type { ServiceAccount } from '@orders/contracts'
import { defaultDatabaseRole } from './database-roles.ts'

/**
 * Parses a process's configuration from the environment once, at start-up, with a typebox
 * schema: defaults filled in, strings converted to numbers, and a clear error naming every
 * bad variable, so a misconfigured process stops before it serves anything.
 */
export function loadConfig<T extends TObject> (schema: T, env: NodeJS.ProcessEnv = process.env): Static<T> {
  const raw: Record<string, unknown> = {}
  for (const key of Object.keys(schema.properties)) {
    const value = env[key]
    if (value !== undefined && value !== '') raw[key] = value
  }
  const candidate = Value.Convert(schema, Value.Default(schema, { ...raw })) as Record<string, unknown>
  const problems = [...Value.Errors(schema, candidate)].map(e => `${e.path.slice(1) || '(config)'}: ${e.message}`)
  // Value.Convert turns "12.5" or "1e3" into the integer 12 or 1; a number must be written
  // as a plain decimal that reads as itself.
  for (const [key, value] of Object.entries(raw)) {
    if (typeof candidate[key] === 'number' && !(/^-?\d+(\.\d+)?$/.test(String(value)) && Number(value) === candidate[key])) problems.push(`${key}: "${String(value)}" is not a valid ${schema.properties[key]?.type ?? 'number'}`)
  }
  if (problems.length > 0) {
    throw new Error(`Invalid configuration from the environment:\n  ${problems.join('\n  ')}`)
  }
  return candidate as Static<T>
}

/** The variables every service reads. Localhost defaults match this machine's services. */
export const commonConfigProperties = {
  HOST: Type.String({ default: '127.0.0.1' }),
  LOG_LEVEL: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map(l => Type.Literal(l)), { default: 'info' }),
  /** Connections per process; 2 cores serve a handful of busy connections best. */
  DATABASE_POOL_SIZE: Type.Integer({ minimum: 1, maximum: 100, default: 10 })
} satisfies TProperties

/**
 * DATABASE_URL and AMQP_URL of a service: by default its own database role and broker user
 * on this machine's servers (doc/security.md, "Least privilege"), without a password, which
 * whoever creates them sets (`pnpm dev`, compose.yaml, the Kubernetes Secrets).
 */
export function serviceConnectionProperties (account: ServiceAccount) {
  return {
    DATABASE_URL: Type.String({ default: `postgres://${defaultDatabaseRole(account)}@127.0.0.1:5432/order_platform` }),
    /** For a cluster, every node's URL, comma-separated (credentials and vhost from the first). */
    AMQP_URL: Type.String({ default: `amqp://${account}@127.0.0.1:5672` })
  } satisfies TProperties
}
