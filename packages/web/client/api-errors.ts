/**
 * The API's errors in words a person understands. Every error body is
 * `{statusCode, error, message}`; a validation message names the field as a path
 * ("body/items/0/sku must match pattern …"), which is mapped to the form's field here.
 * The limits themselves come from the server's message, so they are written down once,
 * in the contracts package.
 */
import { formatMoney } from './money.ts'

/** What the person was doing, which decides how a status reads (401 at login ≠ 401 later). */
export type ApiAction = 'register' | 'login' | 'place-order' | 'load-orders' | 'load-order' | 'cancel-order'

export interface ProblemInWords {
  /** One sentence for the form's alert. */
  message: string
  /** Per field, by form path ("email", "items.0.sku"): the sentence to show under it. */
  fields: Record<string, string>
}

const FIELD_LABELS: Record<string, string> = {
  email: 'Email',
  password: 'Password',
  items: 'The order',
  sku: 'SKU',
  quantity: 'Quantity',
  unit_price: 'Unit price'
}

/** Fields whose numbers are minor units, shown as money. */
const MONEY_FIELDS = new Set(['unit_price', 'total'])

/**
 * "body/items/0/sku must match pattern …" → { field: "items.0.sku", sentence: "SKU may only…" };
 * "body must have required property 'email'" → { field: "email", … }. null when the message
 * is not a body validation message.
 */
export function validationProblem (message: string): { field: string, sentence: string } | null {
  const match = /^body(?:\/(\S+))? (must .*)$/.exec(message)
  if (match === null) return null
  const [, path = '', rule = ''] = match
  const required = /^must have required property '([^']+)'$/.exec(rule)
  const segments = [...(path === '' ? [] : path.split('/')), ...(required ? [required[1]!] : [])]
  const name = [...segments].reverse().find(s => !/^\d+$/.test(s)) ?? ''
  const label = FIELD_LABELS[name] ?? name.replaceAll('_', ' ')
  const words = ruleInWords(rule, name)
  // A rule about the body as a whole that is not known here: no field to point at.
  if (segments.length === 0 && words === null) return null
  return { field: segments.join('.'), sentence: `${label} ${words ?? 'is not valid'}.` }
}

function ruleInWords (rule: string, name: string): string | null {
  const amount = (n: string) => (MONEY_FIELDS.has(name) ? formatMoney(Number(n)) : Number(n).toLocaleString('en-US'))
  let m: RegExpExecArray | null
  if (/^must have required property/.test(rule)) return 'is required'
  if ((m = /^must be <= (\d+)$/.exec(rule))) return `must be at most ${amount(m[1]!)}`
  if ((m = /^must be >= (\d+)$/.exec(rule))) return `must be at least ${amount(m[1]!)}`
  if ((m = /^must be < (\d+)$/.exec(rule))) return `must be less than ${amount(m[1]!)}`
  if ((m = /^must be > (\d+)$/.exec(rule))) return `must be more than ${amount(m[1]!)}`
  if ((m = /^must NOT have more than (\d+) characters$/.exec(rule))) return `must have at most ${m[1]} characters`
  if ((m = /^must NOT have fewer than (\d+) characters$/.exec(rule))) return m[1] === '1' ? 'is required' : `must have at least ${m[1]} characters`
  if ((m = /^must NOT have more than (\d+) items$/.exec(rule))) return `can have at most ${m[1]} rows`
  if ((m = /^must NOT have fewer than (\d+) items$/.exec(rule))) return `needs at least ${m[1]} row${m[1] === '1' ? '' : 's'}`
  if (rule === 'must be integer') return 'must be a whole number'
  if (rule === 'must be number' || rule === 'must be string') return 'has the wrong kind of value'
  if (rule === 'must match format "email"') return 'must be an email address, like ada@example.com'
  if (rule.startsWith('must match pattern')) {
    return name === 'sku' ? 'may only contain letters, digits, dots, dashes and underscores' : 'contains characters that are not allowed'
  }
  return null
}

/**
 * A cancel refused with 409: the processor took the order first (or it was already cancelled,
 * in another tab). The page then reads the order again and, knowing its status, may say more
 * (`cancelRefusal` in orders.ts).
 */
export const CANCEL_REFUSED = 'This order can no longer be cancelled: it is already being processed.'

/** A failure to reach the API at all (fetch rejected: offline, DNS, connection reset). */
export const NETWORK_PROBLEM = 'Could not reach the server. Check your connection and try again.'

/** An answer with status `status` and (if it had one) the API's error message. */
export function describeApiError (action: ApiAction, status: number, serverMessage: string | undefined): ProblemInWords {
  const inWords = (message: string): ProblemInWords => ({ message, fields: {} })
  if (status === 400 && serverMessage !== undefined) {
    const problem = validationProblem(serverMessage)
    if (problem) return { message: problem.sentence, fields: { [problem.field]: problem.sentence } }
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
