import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import addFormatsModule from 'ajv-formats'
import type { FastifySchemaCompiler } from 'fastify'
import { isKnownCurrency, ruleInWords, type BrokenRule } from '@orders/contracts'

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv

function createAjv (options: { coerceTypes: boolean | 'array', allErrors: boolean }): Ajv {
  // removeAdditional: false, so that `additionalProperties: false` rejects unknown properties
  // with a 400 instead of silently dropping them (Fastify's default).
  // verbose: errors carry their schema, so a union of literals can list its values.
  const ajv = new Ajv({ ...options, useDefaults: true, removeAdditional: false, strict: false, verbose: true })
  addFormats(ajv)
  ajv.addFormat('iso-4217', isKnownCurrency)
  return ajv
}

// JSON bodies are typed by the client: `"quantity": "2"` is a mistake to report, not to coerce.
// Query strings, params and headers are always text, so those are converted.
// Every error of a body is reported at once (allErrors), so a client fixes them in one round.
const bodyAjv = createAjv({ coerceTypes: false, allErrors: true })
const boundsAjv = createAjv({ coerceTypes: false, allErrors: false })
const textAjv = createAjv({ coerceTypes: 'array', allErrors: false })

/**
 * With allErrors ajv reports every element of an array, so 1 MiB of `[{}, {}, …]` would make
 * hundreds of thousands of errors. Before that, a fail-fast pass checks only the bounds on how
 * many things there are (maxItems, maxProperties, and for a closed object a few unknown
 * properties at most): a body over them is refused with that one error, and a body within them
 * can only make as many errors as its schema allows.
 * Every array and string of our body schemas is bounded (tested in contracts).
 */
function bodyValidator (schema: object): ValidateFunction {
  const full = bodyAjv.compile(schema)
  const bounds = boundsAjv.compile(boundsOnly(schema) as object)
  const validate = ((data: unknown) => {
    if (!bounds(data)) {
      validate.errors = bounds.errors
      return false
    }
    const valid = full(data)
    validate.errors = full.errors
    return valid
  }) as ValidateFunction
  return validate
}

// Not maxLength: a long string makes one error, not many, so it is reported with the rest.
const BOUND_KEYWORDS = new Set(['maxItems', 'maxProperties'])
/** Unknown properties a closed object may have and still get every error reported. */
const UNKNOWN_PROPERTIES_REPORTED = 5

/** The schema with only its size bounds (and where they apply: properties, items). */
export function boundsOnly (schema: unknown): unknown {
  if (typeof schema !== 'object' || schema === null) return schema
  const source = schema as Record<string, unknown>
  const result: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(source)) {
    if (BOUND_KEYWORDS.has(key)) result[key] = value
    else if (key === 'properties' && typeof value === 'object' && value !== null) {
      result.properties = Object.fromEntries(Object.entries(value).map(([name, property]) => [name, boundsOnly(property)]))
    } else if (key === 'items') result.items = boundsOnly(value)
  }
  if (source.additionalProperties === false && source.maxProperties === undefined && typeof source.properties === 'object' && source.properties !== null) {
    result.maxProperties = Object.keys(source.properties).length + UNKNOWN_PROPERTIES_REPORTED
  }
  return result
}

export const validatorCompiler: FastifySchemaCompiler<any> = ({ schema, httpPart }) =>
  httpPart === 'body' ? bodyValidator(schema) : textAjv.compile(schema)

/** One field's problem: `field` is its path in the request ("items.0.sku"), `message` plain words. */
export interface FieldProblem {
  field: string
  message: string
}

/**
 * ajv's errors in plain words, one per field (the first rule it breaks), in the order of the
 * request: `"sku" may contain letters, digits, '.', '_' and '-'`.
 */
export function fieldProblems (errors: readonly ErrorObject[]): FieldProblem[] {
  const byField = new Map<string, string>()
  for (const error of errors) {
    const path = error.instancePath.split('/').slice(1).map(segment => segment.replaceAll('~1', '/').replaceAll('~0', '~'))
    const broken = brokenRule(error)
    if (error.keyword === 'required') path.push(String(error.params.missingProperty))
    if (error.keyword === 'additionalProperties') path.push(String(error.params.additionalProperty))
    // A union of literals fails each branch (const), then the union (anyOf), which says it all.
    if (error.keyword === 'const' && error.schemaPath.includes('/anyOf/')) continue
    const name = [...path].reverse().find(segment => !/^\d+$/.test(segment))
    const field = path.join('.')
    if (!byField.has(field)) byField.set(field, ruleInWords(name === undefined ? 'the body' : `"${name}"`, broken))
  }
  return [...byField].map(([field, message]) => ({ field, message }))
}

/** `items.0.sku` → `items[0]`: where a field sits, for a message that lists several. */
export function fieldPlace (field: string): string {
  const segments = field.split('.')
  segments.pop()
  return segments.map((s, i) => (/^\d+$/.test(s) ? `[${s}]` : (i === 0 ? s : `.${s}`))).join('')
}

function brokenRule (error: ErrorObject): BrokenRule {
  const params = error.params as Record<string, unknown>
  switch (error.keyword) {
    case 'required': return { rule: 'required' }
    case 'type': return { rule: 'type', type: String(params.type) }
    case 'minimum': case 'maximum': case 'exclusiveMinimum': case 'exclusiveMaximum':
    case 'minLength': case 'maxLength': case 'minItems': case 'maxItems': case 'maxProperties':
      return { rule: error.keyword, limit: Number(params.limit) }
    case 'pattern': return { rule: 'pattern', pattern: String(params.pattern) }
    case 'format': return { rule: 'format', format: String(params.format) }
    case 'const': return { rule: 'enum', allowed: [params.allowedValue] }
    case 'enum': return { rule: 'enum', allowed: params.allowedValues as unknown[] }
    case 'anyOf': return { rule: 'enum', allowed: anyOfConstants(error) }
    case 'additionalProperties': return { rule: 'unknownProperty' }
    default: return { rule: 'other', text: error.message ?? 'is not valid' }
  }
}

/** typebox writes a union of literals as anyOf of consts; the schema lists the values. */
function anyOfConstants (error: ErrorObject): unknown[] {
  const branches = (error.parentSchema as { anyOf?: Array<{ const?: unknown }> } | undefined)?.anyOf ?? []
  return branches.map(branch => branch.const)
}
