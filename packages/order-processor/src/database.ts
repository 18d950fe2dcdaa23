import type { ColumnType } from 'kysely'

/** The `processor` schema, owned by the order-processor alone (migrations/processor). */
export const PROCESSOR_SCHEMA = 'processor'

export type PaymentStatus = 'authorized' | 'declined'

export interface PaymentsTable {
  order_id: string
  amount: number
  status: PaymentStatus
  created_at: ColumnType<Date, never, never>
}

export interface ProcessorDatabase {
  payments: PaymentsTable
}
