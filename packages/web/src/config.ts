import { Type, type Static } from '@sinclair/typebox'
import { commonConfigProperties, loadConfig } from '@orders/platform'

/** doc/ports-and-env.md. The web server needs neither the database nor the broker. */
export const WebConfigSchema = Type.Object({
  HOST: commonConfigProperties.HOST,
  PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 3006 }),
  LOG_LEVEL: commonConfigProperties.LOG_LEVEL,
  /** `auto`: build the app on start when dist/ is missing or older than the sources; `never`: serve dist/ as it is. */
  WEB_BUILD: Type.Union([Type.Literal('auto'), Type.Literal('never')], { default: 'auto' })
})
export type WebConfig = Static<typeof WebConfigSchema>

export function loadWebConfig (env: NodeJS.ProcessEnv = process.env): WebConfig {
  return loadConfig(WebConfigSchema, env)
}
