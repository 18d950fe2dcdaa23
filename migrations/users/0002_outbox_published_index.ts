import type { Kysely } from 'kysely'
import { createOutboxPublishedIndex, dropOutboxPublishedIndex } from '@orders/outbox'

// The relays delete published outbox rows after their retention (issue 4).
export async function up (db: Kysely<any>): Promise<void> {
  await createOutboxPublishedIndex(db, 'users')
}

export async function down (db: Kysely<any>): Promise<void> {
  await dropOutboxPublishedIndex(db, 'users')
}
