import type { CompiledQuery } from 'kysely'

export interface PgbenchScript {
  /** The script's text: the query, each parameter a pgbench variable (`:p1`, …) or an inline SQL expression. */
  script: string
  /** `-D name=value` for every variable. */
  variables: Record<string, string>
}

/**
 * Turns a compiled kysely query into a pgbench script that sends the same statement. Run it
 * with `-M prepared`: pgbench then passes each variable as a parameter of a named statement
 * that each connection parses and plans once, as the order-service's client sends its prepared
 * queries (`createDatabase`, platform), so the server does exactly what it does for the app.
 * `inline` replaces a parameter by an SQL expression, for values that must differ in every
 * transaction (e.g. a new primary key: `gen_random_uuid()`); a null is written as NULL.
 */
export function pgbenchScript (query: CompiledQuery, inline: Map<unknown, string> = new Map()): PgbenchScript {
  const variables: Record<string, string> = {}
  const sql = query.sql.replace(/\$(\d+)/g, (placeholder, digits: string) => {
    const index = Number(digits) - 1
    if (index >= query.parameters.length) throw new Error(`${placeholder} has no parameter in the compiled query`)
    const value = query.parameters[index]
    const expression = inline.get(value)
    if (expression !== undefined) return expression
    if (value === null || value === undefined) return 'NULL'
    const name = `p${digits}`
    variables[name] = asText(value)
    return `:${name}`
  })
  return { script: `${sql};\n`, variables }
}

/** A parameter as node-postgres would send it: text, dates in ISO 8601, objects as JSON. */
function asText (value: unknown): string {
  if (value instanceof Date) return value.toISOString()
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value)
}
