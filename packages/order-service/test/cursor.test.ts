import t from 'tap'
import { randomUUID } from 'node:crypto'
import { decodeCursor, encodeCursor } from '../src/cursor.ts'

t.test('a cursor decodes to the position it was made from', async t => {
  const position = { createdAt: new Date('2026-01-02T03:04:05.678Z'), id: randomUUID() }
  t.same(decodeCursor(encodeCursor(position)), position)
})

t.test('anything this API did not issue is an InvalidCursorError (answered 400)', async t => {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const cases: Array<[string, string]> = [
    ['not base64 JSON', 'garbage'],
    ['not a pair', encode(['2026-01-02T03:04:05.678Z'])],
    ['an id that is not a uuid', encode(['2026-01-02T03:04:05.678Z', 'x'])],
    ['a urn:uuid id', encode(['2026-01-02T03:04:05.678Z', `urn:uuid:${randomUUID()}`])],
    ['a date that is not one', encode(['yesterday', randomUUID()])],
    ['a date before 4713 BC, which PostgreSQL cannot hold', encode(['-010000-01-01T00:00:00.000Z', randomUUID()])],
    ['a date after the year 9999', encode(['+275760-09-13T00:00:00.000Z', randomUUID()])]
  ]
  for (const [name, text] of cases) {
    t.throws(() => decodeCursor(text), { name: 'InvalidCursorError', kind: 'invalid_request' }, name)
  }
})
