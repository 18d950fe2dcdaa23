import type { ColumnType, Kysely } from 'kysely'
import { prepareQuery, type PreparedQuery } from '@orders/platform'

/** The `processor` schema, owned by the order-processor alone (migrations/processor). */
export const PROCESSOR_SCHEMA = 'processor'

export type PaymentStatus = 'authorized' | 'declined'

export interface ProcessorDatabase {
  payments: {
    order_id: string
    amount: number
    status: PaymentStatus
    created_at: ColumnType<Date, never, never>
  }
}

export interface Payment {
  orderId: string
  amount: number
  status: PaymentStatus
}

/** What the processing rules need from the payments table; tests of the rules pass their own. */
export interface PaymentLedger {
  find: (orderId: string) => Promise<Payment | undefined>
  /**
   * Records `payment` unless the order already has one, and returns the one that counts:
   * `created` is false when an earlier or a concurrent delivery recorded it first.
   */
  recordOnce: (payment: Payment) => Promise<{ payment: Payment, created: boolean }>
}

/**
 * One payment per order, in the processor's own schema. The primary key on order_id decides
 * between concurrent deliveries of one order: both insert, one row lands, both read it back.
 */
export class PaymentRepository implements PaymentLedger {
  readonly #db: Kysely<ProcessorDatabase>
  // Prepared once: kysely would otherwise build and compile it for every order.
  readonly #insert: PreparedQuery<{ orderId: string, amount: number, status: PaymentStatus }, { order_id: string }>

  constructor (db: Kysely<ProcessorDatabase>) {
    this.#db = db.withSchema(PROCESSOR_SCHEMA)
    this.#insert = prepareQuery(['orderId', 'amount', 'status'], values => this.#db.insertInto('payments')
      .values({ order_id: values.orderId, amount: values.amount, status: values.status })
      .onConflict(oc => oc.column('order_id').doNothing())
      .returning('order_id'))
  }

  async find (orderId: string): Promise<Payment | undefined> {
    const row = await this.#db.selectFrom('payments')
      .select(['order_id', 'amount', 'status'])
      .where('order_id', '=', orderId)
      .executeTakeFirst()
    return row && { orderId: row.order_id, amount: row.amount, status: row.status }
  }

  async recordOnce (payment: Payment): Promise<{ payment: Payment, created: boolean }> {
    const { rows: [inserted] } = await this.#insert(this.#db, payment)
    if (inserted) return { payment, created: true }
    // The conflicting row is committed (the insert waited for it), so this read sees it.
    const existing = await this.find(payment.orderId)
    if (!existing) throw new Error(`payment of order ${payment.orderId} conflicted yet cannot be read`)
    return { payment: existing, created: false }
  }
}
