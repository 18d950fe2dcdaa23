import { dictionary } from '@zxcvbn-ts/language-common'

/**
 * NIST SP 800-63B §5.1.1.2: refuse passwords from lists of values known to be commonly used or
 * compromised. The list is zxcvbn-ts's `passwords-common` (about 49,000 of the most frequent
 * passwords in public breaches, most common first), from a maintained package rather than a
 * copy of our own. Compared without letter case, so "Password1" counts as "password1"; only
 * entries that pass the length rule (8 characters) matter, shorter ones are refused anyway.
 */
const BREACHED = new Set(
  (dictionary['passwords-common'] as string[]).filter(password => password.length >= 8).map(password => password.toLowerCase())
)

export function isCommonlyBreached (password: string): boolean {
  return BREACHED.has(password.toLowerCase())
}
