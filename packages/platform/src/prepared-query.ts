import { createHash, randomUUID } from 'node:crypto'
import { createQueryId, type Compilable, type CompiledQuery, type Kysely, type QueryResult } from 'kysely'

/** Runs a query that was built and compiled once, with this call's values. */
export type PreparedQuery<Values, Row> = (db: Kysely<any>, values: Values) => Promise<QueryResult<Row>>

/**
 * A kysely query built and compiled once, then run with new values. Kysely builds, transforms
 * (the schema plugin) and compiles a query on every call: about 0.1 ms of CPU for a one-line
 * select and up to 1 ms for the create-order statement on the bench machine, the largest part of
 * the order-service's own work per request after the socket writes (doc/performance.md).
 *
 * `prepareQuery(build)` calls `build` once with a placeholder for each value, compiles what it
 * returns, and remembers which parameter each placeholder became; a call then only puts the
 * values in their places. So `build` must hand every value to kysely as it is (a parameter), not
 * compute with it (no `JSON.stringify(values.x)`, no `values.a + 1`), and must not branch on
 * values: a query whose shape depends on an input is one prepared query per shape. A value that
 * did not become a parameter is an error at preparation, not a silently ignored input.
 *
 * The compiled SQL is also registered as a named statement (`namedStatementFor`): the database
 * client (`createDatabase`) sends it under that name, so PostgreSQL parses and plans it once per
 * connection instead of on every call (about a third of the create statement's CPU in
 * PostgreSQL, doc/performance.md).
 */
export function prepareQuery<Values extends Record<string, unknown>, Row> (
  names: ReadonlyArray<keyof Values & string>,
  build: (values: Values) => Compilable<Row>
): PreparedQuery<Values, Row> {
  const marker = `\u0000prepared:${randomUUID()}:`
  const placeholders = Object.fromEntries(names.map(name => [name, marker + name])) as unknown as Values
  const compiled = build(placeholders).compile()
  // For each parameter of the statement: the name of the value that goes there, or its constant.
  type Slot = { kind: 'value', name: keyof Values & string } | { kind: 'constant', value: unknown }
  const slots = compiled.parameters.map((parameter): Slot =>
    typeof parameter === 'string' && parameter.startsWith(marker) ? { kind: 'value', name: parameter.slice(marker.length) } : { kind: 'constant', value: parameter })
  const unused = names.filter(name => !slots.some(slot => slot.kind === 'value' && slot.name === name))
  if (unused.length > 0) throw new Error(`prepareQuery: ${unused.join(', ')} did not become parameters of the statement (computed with, or not used?)`)
  registerNamedStatement(compiled.sql)
  return async (db, values) => {
    const run: CompiledQuery<Row> = {
      ...compiled,
      queryId: createQueryId(),
      parameters: slots.map(slot => slot.kind === 'value' ? values[slot.name] : slot.value)
    }
    return await db.executeQuery(run)
  }
}

// The SQL text of every prepared query → its statement name. A name is derived from the text
// alone, so the same statement prepared twice (two repositories, two databases) is one name, and
// two texts never share one (node-postgres refuses a name reused with another text).
const statementNames = new Map<string, string>()

function registerNamedStatement (text: string): void {
  if (!statementNames.has(text)) statementNames.set(text, `prepared_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`)
}

/** The statement name under which `text` is sent, if a prepared query compiled to it. */
export function namedStatementFor (text: string): string | undefined {
  return statementNames.get(text)
}
