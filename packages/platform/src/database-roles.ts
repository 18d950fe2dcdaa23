import { sql, type Kysely } from 'kysely'
import pg from 'pg'
import { SERVICE_ACCOUNTS, type ServiceAccount } from '@orders/contracts'

/**
 * Least privilege in PostgreSQL (doc/security.md): every service connects as a role of its own
 * that owns its schema and everything in it, and nothing else; none is a superuser. The roles
 * and their passwords come from each service's own DATABASE_URL (its user and password): the
 * migrate step, which alone connects as an admin, reads those URLs and creates or updates the
 * roles to match, so the URLs are the one place that names them.
 */

/** The schema whose role each account connects as (migrations/<schema>/). */
export const ACCOUNT_SCHEMAS = {
  'user-service': 'users',
  'order-service': 'orders',
  'order-processor': 'processor'
} as const satisfies Record<ServiceAccount, string>

/** Each account's DATABASE_URL: its own role (and password) on the platform's database. */
export type ServiceDatabaseUrls = Record<ServiceAccount, string>

/** `user_service`, `order_service`, `order_processor`: the accounts' names as PostgreSQL likes them. */
export function defaultDatabaseRole (account: ServiceAccount): string {
  return account.replaceAll('-', '_')
}

/** Where `pnpm migrate` reads an account's URL: USER_SERVICE_DATABASE_URL, ORDER_SERVICE_DATABASE_URL, ORDER_PROCESSOR_DATABASE_URL. */
export function databaseUrlVariable (account: ServiceAccount): string {
  return `${account.toUpperCase().replaceAll('-', '_')}_DATABASE_URL`
}

/**
 * Each account's URL on the server and database of `adminUrl`: its role's default name (after
 * `rolePrefix`: tests give each database roles of its own) and, when given, its password.
 */
export function serviceDatabaseUrls (adminUrl: string, options: { rolePrefix?: string, passwords?: Partial<Record<ServiceAccount, string>> } = {}): ServiceDatabaseUrls {
  return Object.fromEntries(SERVICE_ACCOUNTS.map(account => {
    const url = new URL(adminUrl)
    url.username = encodeURIComponent(`${options.rolePrefix ?? ''}${defaultDatabaseRole(account)}`)
    url.password = encodeURIComponent(options.passwords?.[account] ?? '')
    return [account, url.toString()]
  })) as ServiceDatabaseUrls
}

/** The role (and password, when the URL has one) a DATABASE_URL connects as. */
export function databaseCredentials (url: string): { role: string, password: string | undefined } {
  const parsed = new URL(url)
  const role = decodeURIComponent(parsed.username)
  if (role === '') throw new Error(`${redactedUrl(url)} names no role`)
  return { role, password: parsed.password === '' ? undefined : decodeURIComponent(parsed.password) }
}

export function redactedUrl (url: string): string {
  const parsed = new URL(url)
  if (parsed.password !== '') parsed.password = '***'
  return parsed.toString()
}

export interface RoleReport { account: ServiceAccount, role: string, created: boolean }

// Everything a service's role may not have. LOGIN is all it needs; what it may do comes from
// owning its schema.
const ROLE_ATTRIBUTES = 'login nosuperuser nocreatedb nocreaterole noreplication nobypassrls'

/**
 * Creates each account's role, or brings an existing one back to LOGIN and nothing more, with
 * the password of its URL. A URL without a password leaves the role's password as it is, so a
 * forgotten variable cannot lock a service out. Refuses a role that is the admin itself or is
 * shared by two accounts: each would then hold more than its own.
 */
export async function ensureServiceRoles (admin: Kysely<any>, urls: ServiceDatabaseUrls, accounts: readonly ServiceAccount[] = SERVICE_ACCOUNTS): Promise<RoleReport[]> {
  const { rows: [me] } = await sql<{ name: string }>`select current_user as name`.execute(admin)
  const roles = accounts.map(account => ({ account, ...databaseCredentials(urls[account]) }))
  for (const { account, role } of roles) {
    if (role === me?.name) throw new Error(`${account}'s database role is ${role}, the admin the migrations run as: give it a role of its own`)
    const sharing = roles.find(other => other.role === role && other.account !== account)
    if (sharing) throw new Error(`${account} and ${sharing.account} would share the database role ${role}: each needs its own`)
  }
  const reports: RoleReport[] = []
  for (const { account, role, password } of roles) {
    const attributes = sql.raw(password === undefined ? ROLE_ATTRIBUTES : `${ROLE_ATTRIBUTES} password ${pg.escapeLiteral(password)}`)
    let created = true
    try {
      await sql`create role ${sql.id(role)} with ${attributes}`.execute(admin)
    } catch (err) {
      // 42710: it exists; 23505: another migrate step created it at the same moment.
      if (!['42710', '23505'].includes((err as { code?: string }).code ?? '')) throw err
      created = false
      await sql`alter role ${sql.id(role)} with ${attributes}`.execute(admin)
    }
    reports.push({ account, role, created })
  }
  return reports
}

/**
 * Makes each account's role the owner of its schema and of everything in it that it does not
 * own yet: what the migrations just created (they run as the admin), and, once, what a database
 * migrated before these roles existed holds. An owner may do anything with its own objects and
 * nobody else gets any right on them, so a table a later migration adds is covered too. Then
 * only these roles (and superusers) may connect to the database: PUBLIC loses CONNECT and TEMP.
 */
export async function giveSchemasToRoles (admin: Kysely<any>, urls: ServiceDatabaseUrls, accounts: readonly ServiceAccount[] = SERVICE_ACCOUNTS): Promise<void> {
  for (const account of accounts) {
    const schema = ACCOUNT_SCHEMAS[account]
    const { role } = databaseCredentials(urls[account])
    await sql`alter schema ${sql.id(schema)} owner to ${sql.id(role)}`.execute(admin)
    const { rows } = await objectsToGive(schema, role).execute(admin)
    for (const { statement } of rows) await sql.raw(statement).execute(admin)
  }
  const { rows: [database] } = await sql<{ name: string }>`select current_database() as name`.execute(admin)
  const roles = accounts.map(account => sql.id(databaseCredentials(urls[account]).role))
  await sql`revoke all on database ${sql.id(database!.name)} from public`.execute(admin)
  await sql`grant connect on database ${sql.id(database!.name)} to ${sql.join(roles)}`.execute(admin)
}

/** `alter … owner to <role>` for every object of the schema another role owns. */
function objectsToGive (schema: string, role: string) {
  return sql<{ statement: string }>`
    select format('alter %s %I.%I owner to %I',
             case c.relkind when 'v' then 'view' when 'm' then 'materialized view' when 'S' then 'sequence'
                            when 'f' then 'foreign table' else 'table' end,
             n.nspname, c.relname, ${role}::text) as statement
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = ${schema} and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f') and pg_get_userbyid(c.relowner) <> ${role}
       -- indexes, and sequences that belong to a column, follow their table
       and not (c.relkind = 'S' and exists (select 1 from pg_depend d
                 where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype in ('a', 'i')))
    union all
    select format('alter type %I.%I owner to %I', n.nspname, t.typname, ${role}::text)
      from pg_type t join pg_namespace n on n.oid = t.typnamespace
     where n.nspname = ${schema} and pg_get_userbyid(t.typowner) <> ${role}
       -- enums, domains, ranges, and composite types of their own (a table's row type follows the table)
       and (t.typtype in ('e', 'd', 'r') or (t.typtype = 'c' and (select relkind from pg_class where oid = t.typrelid) = 'c'))
    union all
    select format('alter routine %s owner to %I', p.oid::regprocedure, ${role}::text)
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
     where n.nspname = ${schema} and pg_get_userbyid(p.proowner) <> ${role}`
}
