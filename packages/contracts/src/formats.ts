import { FormatRegistry } from '@sinclair/typebox'

/**
 * typebox's Value.Check fails every string whose `format` has no registered checker, and the
 * contracts' Order carries uuid and date-time fields. Fastify services validate with ajv and
 * ajv-formats instead, so nothing else registers these for typebox. Importing this module
 * registers them once (keeping any checker registered before).
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
// RFC 3339 date-time, as ajv-formats accepts it.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/

if (!FormatRegistry.Has('uuid')) FormatRegistry.Set('uuid', value => UUID.test(value))
if (!FormatRegistry.Has('date-time')) {
  FormatRegistry.Set('date-time', value => DATE_TIME.test(value) && !Number.isNaN(Date.parse(value)))
}
