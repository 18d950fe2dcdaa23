import { sql, type Kysely } from 'kysely'

// Key rotation and encryption at rest (issue 11). `private_key` holds the PEM encrypted under
// the key-encryption key (aes-256-gcm:v1:…) — or, in development without one, plaintext;
// the user-service encrypts plaintext rows at its first start with a key. `signs_from`: a new
// key is published at once but signs only from then, once every verifier has fetched it.
export async function up (db: Kysely<any>): Promise<void> {
  await db.schema.withSchema('users').alterTable('signing_keys').renameColumn('private_key_pem', 'private_key').execute()
  await db.schema.withSchema('users').alterTable('signing_keys')
    .addColumn('signs_from', 'timestamptz', col => col.notNull().defaultTo(sql`now()`))
    .execute()
  await sql`update users.signing_keys set signs_from = created_at`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await db.schema.withSchema('users').alterTable('signing_keys').dropColumn('signs_from').execute()
  await db.schema.withSchema('users').alterTable('signing_keys').renameColumn('private_key', 'private_key_pem').execute()
}
