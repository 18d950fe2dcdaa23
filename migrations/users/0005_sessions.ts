import { sql, type Kysely } from 'kysely'

// Sessions people can keep and end (issue 11): a session is a family of refresh tokens. Only a
// token's SHA-256 is stored; each use marks it used and adds its successor, so a used token
// presented again is recognised (reuse) and ends the whole session. `idle_expires_at` never
// passes `expires_at`, so it alone says when a session's rows may be deleted.
export async function up (db: Kysely<any>): Promise<void> {
  await db.schema.withSchema('users').createTable('sessions')
    .addColumn('id', 'uuid', col => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', col => col.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('created_at', 'timestamptz', col => col.notNull())
    .addColumn('expires_at', 'timestamptz', col => col.notNull())
    .addColumn('idle_expires_at', 'timestamptz', col => col.notNull())
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('revoked_reason', 'text')
    .addCheckConstraint('sessions_revoked_reason_check', sql`revoked_reason in ('logout', 'reuse', 'operator')`)
    .addCheckConstraint('sessions_idle_within_lifetime_check', sql`idle_expires_at <= expires_at`)
    .execute()
  await db.schema.withSchema('users').createIndex('sessions_account_id_idx').on('sessions').column('account_id').execute()
  // The clean-up deletes sessions past their idle expiry; the denylist catch-up reads recent revocations.
  await db.schema.withSchema('users').createIndex('sessions_idle_expires_at_idx').on('sessions').column('idle_expires_at').execute()
  await db.schema.withSchema('users').createIndex('sessions_revoked_at_idx').on('sessions').column('revoked_at').where(sql.ref('revoked_at'), 'is not', null).execute()

  await db.schema.withSchema('users').createTable('refresh_tokens')
    .addColumn('token_hash', 'bytea', col => col.primaryKey())
    .addColumn('session_id', 'uuid', col => col.notNull().references('sessions.id').onDelete('cascade'))
    .addColumn('issued_at', 'timestamptz', col => col.notNull())
    .addColumn('used_at', 'timestamptz')
    // The access token issued with this refresh token: ending the session denylists it.
    .addColumn('access_token_jti', 'uuid', col => col.notNull())
    .addColumn('access_token_expires_at', 'timestamptz', col => col.notNull())
    .execute()
  await db.schema.withSchema('users').createIndex('refresh_tokens_session_id_idx').on('refresh_tokens').column('session_id').execute()
  await db.schema.withSchema('users').createIndex('refresh_tokens_used_at_idx').on('refresh_tokens').column('used_at').where(sql.ref('used_at'), 'is not', null).execute()
}

export async function down (db: Kysely<any>): Promise<void> {
  await db.schema.withSchema('users').dropTable('refresh_tokens').execute()
  await db.schema.withSchema('users').dropTable('sessions').execute()
}
