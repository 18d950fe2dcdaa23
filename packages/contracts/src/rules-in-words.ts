/**
 * A broken rule of a schema, said in plain words. The services turn each ajv error into one of
 * these (platform/validation.ts) and the web app its own form checks, so a person reads the
 * same sentence either way: `"sku" may contain letters, digits, '.', '_' and '-'`.
 * No runtime imports: the web app imports it (`@orders/contracts/rules-in-words`).
 */
export type BrokenRule =
  | { rule: 'required' }
  | { rule: 'type', type: string }
  | { rule: 'minimum' | 'maximum' | 'exclusiveMinimum' | 'exclusiveMaximum', limit: number }
  | { rule: 'minLength' | 'maxLength' | 'minItems' | 'maxItems' | 'maxProperties', limit: number }
  | { rule: 'pattern', pattern: string }
  | { rule: 'format', format: string }
  | { rule: 'enum', allowed: readonly unknown[] }
  | { rule: 'unknownProperty' }
  | { rule: 'other', text: string }

/** How a number of the rule reads (the web app writes minor units as money). */
export type NumberInWords = (value: number) => string

const plainNumber: NumberInWords = value => String(value)

/** `subject` is how the field is named: `"sku"` in the API, `SKU` in the web form. */
export function ruleInWords (subject: string, broken: BrokenRule, number: NumberInWords = plainNumber): string {
  return `${subject} ${predicate(broken, number)}`
}

function predicate (broken: BrokenRule, number: NumberInWords): string {
  switch (broken.rule) {
    case 'required': return 'is required'
    case 'type': return broken.type === 'integer' ? 'must be a whole number' : `must be ${article(broken.type)} ${broken.type}`
    case 'minimum': return `must be at least ${number(broken.limit)}`
    case 'maximum': return `must be at most ${number(broken.limit)}`
    case 'exclusiveMinimum': return `must be more than ${number(broken.limit)}`
    case 'exclusiveMaximum': return `must be less than ${number(broken.limit)}`
    case 'minLength': return broken.limit === 1 ? 'must not be empty' : `must have at least ${broken.limit} characters`
    case 'maxLength': return `must have at most ${broken.limit} characters`
    case 'minItems': return `must have at least ${broken.limit} ${broken.limit === 1 ? 'entry' : 'entries'}`
    case 'maxItems': return `must have at most ${broken.limit} entries`
    case 'maxProperties': return `must have at most ${broken.limit} properties`
    case 'pattern': return patternInWords(broken.pattern)
    case 'format': return FORMATS[broken.format] ?? `must be a valid ${broken.format}`
    case 'enum': return `must be one of ${broken.allowed.map(v => JSON.stringify(v)).join(', ')}`
    case 'unknownProperty': return 'is not part of the request'
    case 'other': return broken.text
  }
}

const FORMATS: Record<string, string> = {
  email: 'must be an email address, like ada@example.com',
  uuid: 'must be a UUID, like 3f1c9a52-4b0e-4d3b-9a55-1f0f6c2e7b10',
  'date-time': 'must be a date and time, like 2025-01-31T12:00:00Z',
  'iso-4217': 'must be an ISO 4217 currency code, like EUR or USD'
}

function article (word: string): string {
  return /^[aeiou]/.test(word) ? 'an' : 'a'
}

/**
 * `^[A-Za-z0-9._-]+$` → "may contain letters, digits, '.', '_' and '-'"; `^[A-Z]{3}$` →
 * "must be 3 capital letters". A pattern that is not one character class stays as it is.
 */
export function patternInWords (pattern: string): string {
  const match = /^\^\[([^\]]+)\](\+|\{(\d+)\})\$$/.exec(pattern)
  if (match === null) return `must match the pattern ${pattern}`
  const [, chars = '', , exactly] = match
  const kinds: string[] = []
  let rest = chars
  for (const [range, name] of [['A-Za-z', 'letters'], ['a-zA-Z', 'letters'], ['A-Z', 'capital letters'], ['a-z', 'small letters'], ['0-9', 'digits']] as const) {
    if (rest.includes(range)) { kinds.push(name); rest = rest.replace(range, '') }
  }
  kinds.push(...[...rest.replaceAll('\\', '')].map(c => `'${c}'`))
  const list = kinds.length > 1 ? `${kinds.slice(0, -1).join(', ')} and ${kinds.at(-1)!}` : (kinds[0] ?? '')
  return exactly === undefined ? `may contain ${list}` : `must be ${exactly} ${list}`
}
