import { Type, type Static } from '@sinclair/typebox'
import { Uuid } from './uuid.ts'

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
