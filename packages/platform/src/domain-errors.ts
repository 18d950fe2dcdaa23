/**
 * A refusal by the rules, not a fault: repositories and domain code throw these, and the one
 * error handler (errors.ts) answers each kind with its HTTP status and the error's own message,
 * so routes need no try/catch. The message reaches the client: say what was refused and why.
 */
export type DomainErrorKind =
  /** The request cannot be served as sent (a cursor this API never issued): 400. */
  | 'invalid_request'
  /** Nothing the caller may see has this id (an unknown one, or someone else's): 404. */
  | 'not_found'
  /** The request contradicts the current state (a move the state machine forbids, a reused key): 409. */
  | 'conflict'

export abstract class DomainError extends Error {
  abstract readonly kind: DomainErrorKind

  constructor (message: string) {
    super(message)
    this.name = new.target.name
  }
}

/** The HTTP status of each kind, written once for every service. */
export const DOMAIN_ERROR_STATUS = {
  invalid_request: 400,
  not_found: 404,
  conflict: 409
} as const satisfies Record<DomainErrorKind, number>
