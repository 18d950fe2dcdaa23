import { ErrorResponse } from '@orders/contracts'

/** `response` entries for a route's error codes, all in the one error shape. */
export function errorResponses<const Code extends number> (...codes: Code[]): Record<Code, typeof ErrorResponse> {
  return Object.fromEntries(codes.map(code => [code, ErrorResponse])) as Record<Code, typeof ErrorResponse>
}

/** What every route that reads a body can answer besides its own errors. */
export const BODY_ERRORS = [400, 413, 415] as const
