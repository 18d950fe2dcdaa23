import { Type, type Static } from '@sinclair/typebox'
import { Uuid } from './uuid.ts'
import { ErrorResponse } from './errors.ts'
import { REFRESH_COOKIE, REFRESH_TOKEN_GRANT, SESSION_END_REASONS } from './sessions.ts'

// A pragmatic email check: something@something.tld, no spaces; 254 is the SMTP path limit.
const Email = Type.String({ format: 'email', maxLength: 254, description: 'Compared case-insensitively' })
const Password = Type.String({ minLength: 8, maxLength: 128, description: '8 to 128 characters; never echoed or logged' })

export const Credentials = Type.Object({ email: Email, password: Password }, { additionalProperties: false })
export type Credentials = Static<typeof Credentials>

/** Login accepts any string so that a malformed email is the same 401 as a wrong one. */
export const LoginBody = Type.Object({
  email: Type.String({ maxLength: 254 }),
  password: Type.String({ maxLength: 128 })
}, { additionalProperties: false })
export type LoginBody = Static<typeof LoginBody>

export const User = Type.Object({
  id: Uuid(),
  email: Type.String(),
  created_at: Type.String({ format: 'date-time' })
})
export type User = Static<typeof User>

export const AccessTokenResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer({ description: 'Seconds until the token expires' }),
  scope: Type.Optional(Type.String())
})
export type AccessTokenResponse = Static<typeof AccessTokenResponse>

export const ClientCredentialsBody = Type.Object({
  grant_type: Type.Literal('client_credentials'),
  client_id: Type.String({ minLength: 1, maxLength: 128 }),
  client_secret: Type.String({ minLength: 1, maxLength: 256 }),
  scope: Type.Optional(Type.String({ maxLength: 256 }))
}, { additionalProperties: false })
export type ClientCredentialsBody = Static<typeof ClientCredentialsBody>

/** An opaque refresh token (the service issues 43 base64url characters: 256 random bits). */
const RefreshToken = (description: string) => Type.String({ minLength: 1, maxLength: 128, description })

export const RefreshTokenBody = Type.Object({
  grant_type: Type.Literal(REFRESH_TOKEN_GRANT),
  refresh_token: Type.Optional(RefreshToken(`The refresh token. Left out, it is read from the \`${REFRESH_COOKIE}\` cookie (browsers); ` +
    'the new one comes back the way the old one came: in the cookie, or in the body'))
}, { additionalProperties: false })
export type RefreshTokenBody = Static<typeof RefreshTokenBody>

/** What `POST /oauth/token` accepts: one grant or the other, chosen by `grant_type`. */
export const TokenRequestBody = Type.Union([ClientCredentialsBody, RefreshTokenBody])
export type TokenRequestBody = Static<typeof TokenRequestBody>

/** The refresh grant's answer: a new access token, and the new refresh token if the old one came in the body. */
export const RefreshedTokenResponse = Type.Object({
  ...AccessTokenResponse.properties,
  refresh_token: Type.Optional(RefreshToken('The next refresh token; only when the old one was sent in the body (the cookie carries it otherwise)'))
})
export type RefreshedTokenResponse = Static<typeof RefreshedTokenResponse>

/** A token request refused: the error shape, and for a refused refresh why, in one word a client can act on. */
export const TokenErrorResponse = Type.Object({
  ...ErrorResponse.properties,
  reason: Type.Optional(Type.Union(SESSION_END_REASONS.map(reason => Type.Literal(reason)), {
    description: 'Only when a refresh token is refused: why the session is over (contracts/src/sessions.ts); sign in again'
  }))
}, { description: 'A wrong client secret (invalid_client), or a refresh token that cannot be used (invalid_grant, with `reason`)' })
export type TokenErrorResponse = Static<typeof TokenErrorResponse>
