import { readFile } from 'node:fs/promises'
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { Parser } from '@asyncapi/parser'
import { parse as parseYaml } from 'yaml'
import {
  EventOrder, EVENT_EXCHANGES, LIVE_STATUS_CLOSE_CODES, LIVE_STATUS_PATH, LIVE_STATUS_TOKEN_PARAM, LiveStatusQuery, Order, OrderCreatedV1,
  OrderItem, OrderStatusChangedV1, OrderStatusSchema, ROUTING_KEYS, statusChangedRoutingKey, User, UserRegisteredV1
} from '../src/index.ts'
// The schema (a value); the index also re-exports the type of the same name from live-status.ts.
import { OrderStatusChangedMessage } from '../src/live-status-schemas.ts'

// asyncapi.yaml at the root describes the WebSocket and the events for people and tools; the
// typebox schemas here are what the code checks. This test keeps the two the same.

const source = await readFile(new URL('../../../asyncapi.yaml', import.meta.url), 'utf8')
const raw = parseYaml(source)

/** The JSON a typebox schema stands for (its symbols dropped). */
const plain = (schema: unknown) => JSON.parse(JSON.stringify(schema))

/** The document's JSON without the ids the parser adds to every schema. */
function withoutParserKeys (node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutParserKeys)
  if (node === null || typeof node !== 'object') return node
  return Object.fromEntries(Object.entries(node).filter(([key]) => !key.startsWith('x-parser-')).map(([key, value]) => [key, withoutParserKeys(value)]))
}

t.test('asyncapi.yaml is a valid AsyncAPI 3 document', async t => {
  const { document, diagnostics } = await new Parser().parse(source)
  const errors = diagnostics.filter(d => d.severity === 0).map(d => `${d.path.join('/')}: ${d.message}`)
  t.same(errors, [], 'no errors')
  t.ok(document, 'parsed')
  t.equal(document!.version(), '3.0.0')
})

t.test('every schema in it is the contracts package\'s, once its references are resolved', async t => {
  const { document } = await new Parser().parse(source)
  const schemas = (withoutParserKeys(document!.json()) as { components: { schemas: Record<string, unknown> } }).components.schemas
  const contracts = { OrderCreatedV1, OrderStatusChangedV1, UserRegisteredV1, OrderStatusChangedMessage, LiveStatusQuery, Order, EventOrder, OrderItem, OrderStatus: OrderStatusSchema, User }
  t.same(Object.keys(schemas).sort(), Object.keys(contracts).sort(), 'the same schemas')
  for (const [name, schema] of Object.entries(contracts)) t.same(schemas[name], plain(schema), name)
})

t.test('its addresses are the contracts\' constants', async t => {
  t.equal(raw.channels.liveStatus.address, LIVE_STATUS_PATH)
  t.same(Object.keys(raw.components.schemas.LiveStatusQuery.properties), [LIVE_STATUS_TOKEN_PARAM])
  for (const code of Object.values(LIVE_STATUS_CLOSE_CODES)) t.match(raw.info.description, `**${code}**`, `close code ${code} described`)
  t.equal(raw.channels.orderCreated.address, ROUTING_KEYS.orderCreated)
  t.equal(raw.channels.orderStatusChanged.address.replace('{userId}', '<user id>'), statusChangedRoutingKey(randomUUID()).replace(/[0-9a-f-]{36}$/, '<user id>'))
  t.equal(raw.channels.userRegistered.address, ROUTING_KEYS.userRegistered)
  t.match(raw.channels.orderCreated.bindings.amqp.exchange, { name: EVENT_EXCHANGES.orderEvents.exchange, type: EVENT_EXCHANGES.orderEvents.type })
  t.match(raw.channels.userRegistered.bindings.amqp.exchange, { name: EVENT_EXCHANGES.userEvents.exchange, type: EVENT_EXCHANGES.userEvents.type })
})
