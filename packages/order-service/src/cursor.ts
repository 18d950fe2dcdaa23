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

const EARLIEST_CURSOR_MS = Date.UTC(2000, 0, 1)
const LATEST_CURSOR_MS = Date.UTC(9999, 11, 31)

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
  // Only dates this API can have issued: PostgreSQL's timestamptz cannot hold years before
  // 4713 BC, and such a date would reach the query as a 500 instead of a 400.
  if (Number.isNaN(date.getTime()) || date.getTime() < EARLIEST_CURSOR_MS || date.getTime() > LATEST_CURSOR_MS) throw new InvalidCursorError()
  return { createdAt: date, id }
}
