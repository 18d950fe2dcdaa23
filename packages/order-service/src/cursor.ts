/**
 * The opaque `next_cursor` of GET /orders: the position (created_at, id) of the last order
 * of a page, base64url-encoded. Clients pass it back unchanged; a cursor that doesn't
 * decode is the client's mistake (400).
 */
export interface OrderCursor { createdAt: Date, id: string }

export class InvalidCursorError extends Error {
  constructor () { super('The cursor is not one this API issued; start again without it') }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function encodeCursor (cursor: OrderCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt.toISOString(), cursor.id])).toString('base64url')
}

export function decodeCursor (text: string): OrderCursor {
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'))
  } catch {
    throw new InvalidCursorError()
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw new InvalidCursorError()
  const [createdAt, id] = parsed as unknown[]
  if (typeof createdAt !== 'string' || typeof id !== 'string' || !UUID.test(id)) throw new InvalidCursorError()
  const date = new Date(createdAt)
  if (Number.isNaN(date.getTime())) throw new InvalidCursorError()
  return { createdAt: date, id }
}
