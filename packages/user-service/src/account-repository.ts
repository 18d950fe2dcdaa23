import { sql, type Kysely } from 'kysely'
import { appendToOutbox } from '@orders/outbox'
import { EXCHANGES, ROUTING_KEYS, type User, type UserRegisteredV1 } from '@orders/contracts'
import { DomainError } from '@orders/platform'
import { USERS_SCHEMA, type UsersDatabase } from './database.ts'

/** Emails are unique whatever their letter case; answered 409 by the platform's error handler. */
export class EmailTakenError extends DomainError {
  readonly kind = 'conflict'
  constructor () { super('An account with this email already exists') }
}

// The unique index on lower(email), from migrations/users/0001.
const EMAIL_UNIQUE_INDEX = 'accounts_email_lower_key'
const UNIQUE_VIOLATION = '23505'

export interface NewAccount {
  email: string
  passwordHash: string
  /** The request that registered the account; travels with the event. */
  requestId: string
}

export interface AccountRepositoryOptions {
  db: Kysely<UsersDatabase>
  /** Called after each commit that wrote outbox rows (wakes the in-process relay). */
  onOutboxCommitted: () => void
}

/** users.accounts: every SQL statement about accounts lives here. */
export class AccountRepository {
  readonly #db: Kysely<UsersDatabase>
  readonly #onOutboxCommitted: () => void

  constructor (options: AccountRepositoryOptions) {
    this.#db = options.db
    this.#onOutboxCommitted = options.onOutboxCommitted
  }

  /**
   * Inserts the account and its `user_registered` event in one transaction, so the event is
   * published if and only if the account exists. Throws EmailTakenError when the email is taken
   * (in any letter case), including when a concurrent registration wins the race.
   */
  async createWithOutbox (account: NewAccount): Promise<User> {
    let user: User
    try {
      user = await this.#db.transaction().execute(async trx => {
        const row = await trx.withSchema(USERS_SCHEMA).insertInto('accounts')
          .values({ email: account.email, password_hash: account.passwordHash })
          .returning(['id', 'email', 'created_at'])
          .executeTakeFirstOrThrow()
        const created = toUser(row)
        const event: UserRegisteredV1 = { type: 'user_registered', version: 1, occurred_at: created.created_at, data: { user: created } }
        await appendToOutbox(trx, USERS_SCHEMA, {
          exchange: EXCHANGES.userEvents,
          routingKey: ROUTING_KEYS.userRegistered,
          payload: event,
          requestId: account.requestId
        })
        return created
      })
    } catch (err) {
      const { code, constraint } = err as { code?: unknown, constraint?: unknown }
      if (code === UNIQUE_VIOLATION && constraint === EMAIL_UNIQUE_INDEX) throw new EmailTakenError()
      throw err
    }
    this.#onOutboxCommitted()
    return user
  }

  /** Case-insensitive, through the unique index on lower(email). */
  async findByEmail (email: string): Promise<(User & { passwordHash: string }) | undefined> {
    const row = await this.#db.withSchema(USERS_SCHEMA).selectFrom('accounts')
      .select(['id', 'email', 'created_at', 'password_hash'])
      .where(sql<string>`lower(email)`, '=', sql<string>`lower(${email})`)
      .executeTakeFirst()
    return row && { ...toUser(row), passwordHash: row.password_hash }
  }

  async findById (id: string): Promise<User | undefined> {
    const row = await this.#db.withSchema(USERS_SCHEMA).selectFrom('accounts')
      .select(['id', 'email', 'created_at'])
      .where('id', '=', id)
      .executeTakeFirst()
    return row && toUser(row)
  }
}

function toUser (row: { id: string, email: string, created_at: Date }): User {
  return { id: row.id, email: row.email, created_at: row.created_at.toISOString() }
}
