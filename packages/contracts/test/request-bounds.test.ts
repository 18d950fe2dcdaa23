import t from 'tap'
import type { TSchema } from '@sinclair/typebox'
import {
  ChangeOrderStatusBody, ClientCredentialsBody, CreateOrderBody, Credentials, LoginBody, OrderItem, ORDER_LIMITS, patternInWords, RefreshTokenBody
} from '../src/index.ts'

/** Paths of strings and arrays a client could make as long as the body limit allows. */
function unbounded (schema: TSchema, path = ''): string[] {
  const s = schema as Record<string, any>
  if (s.anyOf) return s.anyOf.flatMap((branch: TSchema) => unbounded(branch, path))
  if (s.const !== undefined || s.enum !== undefined) return []
  if (s.type === 'string') return s.maxLength === undefined ? [path] : []
  if (s.type === 'array') return [...(s.maxItems === undefined ? [path] : []), ...unbounded(s.items, `${path}[]`)]
  if (s.type === 'object') return Object.entries(s.properties ?? {}).flatMap(([name, property]) => unbounded(property as TSchema, `${path}.${name}`))
  return []
}

t.test('every string and array of a request body is bounded, so reporting all its errors is bounded too', async t => {
  for (const [name, schema] of Object.entries({ CreateOrderBody, ChangeOrderStatusBody, Credentials, LoginBody, ClientCredentialsBody, RefreshTokenBody })) {
    t.same(unbounded(schema), [], name)
  }
})

t.test('the order schemas are built from ORDER_LIMITS, which the web form reads', async t => {
  t.match(OrderItem.properties.sku, ORDER_LIMITS.sku)
  t.match(OrderItem.properties.quantity, ORDER_LIMITS.quantity)
  t.match(OrderItem.properties.unit_price, ORDER_LIMITS.unit_price)
  t.match(CreateOrderBody.properties.items, ORDER_LIMITS.items)
  t.match(CreateOrderBody.properties.currency, ORDER_LIMITS.currency)
})

t.test('a character-class pattern reads as words', async t => {
  t.equal(patternInWords('^[A-Za-z0-9._-]+$'), "may contain letters, digits, '.', '_' and '-'")
  t.equal(patternInWords('^[A-Z]{3}$'), 'must be 3 capital letters')
  t.equal(patternInWords('^(a|b)$'), 'must match the pattern ^(a|b)$')
})
