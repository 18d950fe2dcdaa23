import { isUuid } from '@orders/contracts'
import { InvalidCursorError } from './order-errors.ts'

/**
 * The opaque `next_cursor` of GET /orders: the position (created_at, id) of the last order
 * of a page, base64url-encoded. Clients pass it back unchanged; a cursor that doesn't
 * decode is the client's mistake (400).
 */
export interface OrderCursor { createdAt: Date, id: string }

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
  if (typeof createdAt !== 'string' || typeof id !== 'string' || !isUuid(id)) throw new InvalidCursorError()
  const date = new Date(createdAt)
  if (Number.isNaN(date.getTime())) throw new InvalidCursorError()
  return { createdAt: date, id }
}
