import { randomUUID } from 'node:crypto'
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, SCOPES } from '@orders/contracts'

/** The value a valid access token has for one claim (or the `typ` header), and wrong ones; `undefined` leaves it out. */
export interface ClaimChoice { right: unknown, wrong: unknown[] }

/**
 * A person's access token, claim by claim, right or wrong in each way a verifier must refuse
 * (access-token-claims.ts): the property tests draw claim sets from these, and
 * `oneWrongAtATime` lists the cases that show each rule on its own.
 */
export function userTokenClaimChoices (sub: string, nowSeconds = Math.floor(Date.now() / 1000)): Record<'typ' | 'iss' | 'aud' | 'sub' | 'iat' | 'exp' | 'scope' | 'jti', ClaimChoice> {
  return {
    typ: { right: 'at+jwt', wrong: [undefined, 'JWT', 'id+jwt'] },
    iss: { right: ACCESS_TOKEN_ISSUER, wrong: [undefined, 'someone-else', 7] },
    aud: { right: ACCESS_TOKEN_AUDIENCE, wrong: [undefined, 'elsewhere', ['elsewhere']] },
    sub: { right: sub, wrong: [undefined, 'not-a-uuid', '', 42, `urn:uuid:${randomUUID()}`] },
    // Verifiers allow 30 s of clock skew: two minutes ahead is beyond it.
    iat: { right: nowSeconds - 5, wrong: [undefined, nowSeconds + 120, 'yesterday'] },
    exp: { right: nowSeconds + 600, wrong: [undefined, nowSeconds - 10, 'tomorrow'] },
    scope: { right: SCOPES.user, wrong: [7] },
    // A revocation names a token by its jti: one without (or an unusable one) could not be revoked.
    jti: { right: randomUUID(), wrong: [undefined, '', 42, 'x'.repeat(65)] }
  }
}

export interface ClaimCase {
  /** e.g. `sub "not-a-uuid"`, or `every claim right`. */
  name: string
  /** The `typ` header, then the claims; undefined ones are left out of the token. */
  typ: unknown
  claims: Record<string, unknown>
}

/** The token with every claim right, then one token per wrong value with only that claim wrong. */
export function oneWrongAtATime (choices: Record<string, ClaimChoice>): ClaimCase[] {
  const right = Object.fromEntries(Object.entries(choices).map(([name, choice]) => [name, choice.right]))
  const asCase = (name: string, values: Record<string, unknown>): ClaimCase => {
    const { typ, ...claims } = values
    return { name, typ, claims }
  }
  return [
    asCase('every claim right', right),
    ...Object.entries(choices).flatMap(([name, choice]) => choice.wrong.map(value =>
      asCase(`${name} ${value === undefined ? 'missing' : JSON.stringify(value)}`, { ...right, [name]: value })))
  ]
}
