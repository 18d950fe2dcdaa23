/**
 * The API's errors in words a person understands. Every error body is
 * `{statusCode, error, message}`; a 400 for invalid input adds `errors`, one plain sentence per
 * field (`{field: "items.0.sku", message: "\"sku\" may contain letters, …"}`), which is shown at
 * the form's field of that path under the form's own label.
 */

/** What the person was doing, which decides how a status reads (401 at login ≠ 401 later). */
export type ApiAction = 'register' | 'login' | 'refresh' | 'logout' | 'load-account' | 'place-order' | 'load-orders' | 'load-order' | 'cancel-order'

export interface ProblemInWords {
  /** One sentence for the form's alert. */
  message: string
  /** Per field, by form path ("email", "items.0.sku"): the sentence to show under it. */
  fields: Record<string, string>
}

export interface FieldError { field: string, message: string }

const FIELD_LABELS: Record<string, string> = {
  email: 'Email',
  password: 'Password',
  items: 'The order',
  sku: 'SKU',
  quantity: 'Quantity',
  unit_price: 'Unit price',
  currency: 'Currency'
}

/** `{field: "items.0.sku", message: "\"sku\" may contain …"}` → "SKU may contain ….", by field. */
export function fieldSentences (errors: readonly FieldError[]): Record<string, string> {
  const fields: Record<string, string> = {}
  for (const { field, message } of errors) {
    const name = [...field.split('.')].reverse().find(s => !/^\d+$/.test(s)) ?? field
    const label = FIELD_LABELS[name] ?? name.replaceAll('_', ' ')
    fields[field] = `${label} ${message.replace(/^"[^"]*" /, '')}.`
  }
  return fields
}

/**
 * A cancel refused with 409: the processor took the order first (or it was already cancelled,
 * in another tab). The page then reads the order again and, knowing its status, may say more
 * (`cancelRefusal` in orders.ts).
 */
export const CANCEL_REFUSED = 'This order can no longer be cancelled: it is already being processed.'

/** What the sign-in page says when a session ended without the person signing out here. */
export const SESSION_END_NOTICES = {
  expired: 'Your session has expired. Please sign in again.',
  signedOutElsewhere: 'You signed out in another tab. Please sign in again.',
  reused: 'You were signed out for your safety: your session was used from somewhere else. Please sign in again.',
  revoked: 'Your session was ended. Please sign in again.',
  unreachable: 'Could not reach the server to restore your session. Check your connection and sign in again.'
} as const

/** A request that needs a session, made after the session ended (the app is on its way to sign-in). */
export const SESSION_ENDED = 'Your session has ended. Please sign in again.'

/** A failure to reach the API at all (fetch rejected: offline, DNS, connection reset). */
export const NETWORK_PROBLEM = 'Could not reach the server. Check your connection and try again.'

/** An answer with status `status` and (if it had one) the API's error message. */
export function describeApiError (action: ApiAction, status: number, serverMessage: string | undefined, fieldErrors: readonly FieldError[] = []): ProblemInWords {
  const inWords = (message: string): ProblemInWords => ({ message, fields: {} })
  if (status === 400 && fieldErrors.length > 0) {
    const fields = fieldSentences(fieldErrors)
    const sentences = Object.values(fields)
    return { message: sentences.length === 1 ? sentences[0]! : 'Some fields need attention.', fields }
  }
  switch (status) {
    case 400: return inWords('The server did not accept the request. Check what you entered and try again.')
    case 401: return inWords(action === 'login' ? 'Wrong email or password.' : 'Your session has expired. Please sign in again.')
    case 403: return inWords('You are not allowed to do that.')
    case 404: return inWords(action === 'load-order' || action === 'cancel-order' ? 'There is no such order among yours.' : 'Not found.')
    case 409: switch (action) {
      case 'register': return { message: 'An account with this email already exists. Sign in instead, or use another email.', fields: { email: 'This email is already registered.' } }
      case 'cancel-order': return inWords(CANCEL_REFUSED)
      default: return inWords('This order was already placed with different contents. Reload the page and try again.')
    }
    case 413: return inWords('The order is too large to send. Remove some rows and try again.')
    case 429: return inWords('Too many requests. Wait a moment and try again.')
    case 502:
    case 503:
    case 504: return inWords('The service is unavailable at the moment; nothing was changed. Try again shortly.')
    default: return inWords(status >= 500 ? 'Something went wrong on our side. Please try again.' : `The request failed (${status}). Please try again.`)
  }
}
