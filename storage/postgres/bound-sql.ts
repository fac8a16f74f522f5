import type { EntityManager } from "@mikro-orm/postgresql";
import { CompiledQuery, type Kysely } from "kysely";

/**
 * Runs SQL written with `?` placeholders as a parameterized statement, in the entity
 * manager's transaction when it has one. MikroORM's `execute` writes every parameter into
 * the SQL text instead: for the pipeline's batches (thousands of values, sealed addresses,
 * kilobytes of bytea as hex) that cost more CPU than the work itself, on both sides.
 */
export async function boundQuery<Row>(
  em: EntityManager,
  sql: string,
  params: readonly unknown[],
): Promise<Row[]> {
  let index = 0;
  const text = sql.replace(/\?/g, () => `$${++index}`);
  // Inside a transaction, MikroORM's context is the Kysely transaction to run on.
  const client = em.getTransactionContext<Kysely<unknown>>() ?? em.getConnection().getClient();
  const result = await client.executeQuery(CompiledQuery.raw(text, [...params]));
  return result.rows as Row[];
}
