import { Ajv } from 'ajv'
import addFormatsModule from 'ajv-formats'
import type { FastifySchemaCompiler } from 'fastify'

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv

function createAjv (coerceTypes: boolean | 'array'): Ajv {
  // removeAdditional: false, so that `additionalProperties: false` rejects unknown properties
  // with a 400 instead of silently dropping them (Fastify's default).
  const ajv = new Ajv({ coerceTypes, useDefaults: true, removeAdditional: false, allErrors: false, strict: false })
  addFormats(ajv)
  return ajv
}

// JSON bodies are typed by the client: `"quantity": "2"` is a mistake to report, not to coerce.
// Query strings, params and headers are always text, so those are converted.
const bodyAjv = createAjv(false)
const textAjv = createAjv('array')

export const validatorCompiler: FastifySchemaCompiler<any> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? bodyAjv : textAjv).compile(schema)
