import { Type, type StringOptions } from '@sinclair/typebox'

/**
 * The one UUID format of the platform: ids of orders and accounts, and a person's token `sub`.
 * Any version, either letter case. Written without regex flags so that the same source serves
 * as a JSON Schema `pattern`.
 */
export const UUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/

export function isUuid (value: unknown): value is string {
  return typeof value === 'string' && UUID_PATTERN.test(value)
}

/**
 * A uuid string in a schema (a body, a parameter, an event). The pattern as well as the format:
 * ajv-formats' "uuid" also lets `urn:uuid:…` through, which PostgreSQL's uuid type refuses.
 */
export function Uuid (options: StringOptions = {}) {
  return Type.String({ ...options, format: 'uuid', pattern: UUID_PATTERN.source })
}
