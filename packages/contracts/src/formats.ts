import { FormatRegistry } from '@sinclair/typebox'
import { UUID_PATTERN } from './uuid.ts'
import { isKnownCurrency } from './order-limits.ts'

/**
 * The string formats the contracts use, for typebox's own checker (`Value.Check`), which fails
 * every string whose `format` it has no checker for. Fastify routes validate with ajv and
 * ajv-formats instead; consumers of events (the processor) check with typebox. Importing the
 * contracts registers them once (keeping any checker registered before).
 */
// RFC 3339 date-time, as ajv-formats accepts it.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/

if (!FormatRegistry.Has('uuid')) FormatRegistry.Set('uuid', value => UUID_PATTERN.test(value))
// A pragmatic email check, as ajv-formats' "fast" mode: something@something.tld, no spaces.
const EMAIL = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i

if (!FormatRegistry.Has('email')) FormatRegistry.Set('email', value => EMAIL.test(value))
if (!FormatRegistry.Has('date-time')) {
  FormatRegistry.Set('date-time', value => DATE_TIME.test(value) && !Number.isNaN(Date.parse(value)))
}
if (!FormatRegistry.Has('iso-4217')) FormatRegistry.Set('iso-4217', isKnownCurrency)
