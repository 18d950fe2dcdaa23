/**
 * Sessions a person can keep and end: a refresh token per session, rotated on every use
 * (RFC 9700 §4.14), that buys new access tokens at the token endpoint (RFC 6749 §6). The
 * user-service, the web app and the tests all read this module; it has no runtime imports, so
 * the web app takes it alone (`@orders/contracts/sessions`).
 */

/** The token endpoint: the client-credentials grant and the refresh grant. */
export const TOKEN_PATH = '/oauth/token'
/** Ends the session of the credentials it is sent with. */
export const LOGOUT_PATH = '/logout'

export const REFRESH_TOKEN_GRANT = 'refresh_token'

/**
 * The HttpOnly cookie that carries a browser's refresh token, sent only to TOKEN_PATH (its
 * Path), so no other request, and no script, ever sees it.
 */
export const REFRESH_COOKIE = 'orders_refresh'

/**
 * Why a refresh is refused (401, in `reason`), so a client can say it in words:
 * - `no_session`: no refresh token was sent (never signed in here, or the cookie is gone);
 * - `invalid`: a token this service never issued, or one so old it was forgotten;
 * - `expired`: the session reached its idle or absolute lifetime;
 * - `signed_out`: the session was ended by signing out;
 * - `reused`: a token already used was presented again, so the session was ended for safety
 *   (RFC 9700 §4.14.2: someone else may hold a copy);
 * - `revoked`: an operator ended the session.
 */
export const SESSION_END_REASONS = ['no_session', 'invalid', 'expired', 'signed_out', 'reused', 'revoked'] as const
export type SessionEndReason = (typeof SESSION_END_REASONS)[number]
