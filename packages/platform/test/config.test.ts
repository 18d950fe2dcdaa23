import t from 'tap'
import { Type } from '@sinclair/typebox'
import { loadConfig } from '@orders/platform'

const Schema = Type.Object({
  PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 3000 }),
  NAME: Type.String({ default: 'service' }),
  SECRET: Type.String({ minLength: 1 })
})

t.test('fills defaults and converts numbers', async t => {
  t.same(loadConfig(Schema, { PORT: '8080', SECRET: 's' }), { PORT: 8080, NAME: 'service', SECRET: 's' })
  t.same(loadConfig(Schema, { PORT: '', SECRET: 's' }).PORT, 3000, 'an empty variable means unset')
})

t.test('names every bad variable at once', async t => {
  t.throws(() => loadConfig(Schema, { PORT: '70000' }), /PORT[\s\S]*SECRET|SECRET[\s\S]*PORT/)
})

t.test('a number must read as itself, not be truncated', async t => {
  for (const value of ['12.5', '1e3', '0x10', 'eight']) {
    t.throws(() => loadConfig(Schema, { PORT: value, SECRET: 's' }), /PORT/, value)
  }
})

t.test('ignores variables the schema does not name', async t => {
  t.same(loadConfig(Schema, { SECRET: 's', OTHER: 'x' }), { PORT: 3000, NAME: 'service', SECRET: 's' })
})
