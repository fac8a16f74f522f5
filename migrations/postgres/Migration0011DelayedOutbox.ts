import { Migration } from "@mikro-orm/migrations";

/**
 * An outbox row may wait for its time: a dispatch job whose providers are all down goes back
 * to its queue later, through the outbox, so that it commits with the attempt that failed and
 * is never lost while it waits. The partial index keeps the relay's look for due rows cheap
 * however many wait.
 */
export class Migration0011DelayedOutbox extends Migration {
  override name = "0011_delayed_outbox";

  override up(): void {
    this.addSql("ALTER TABLE notification_outbox ADD COLUMN publish_after TIMESTAMPTZ");
    this.addSql(
      "CREATE INDEX notification_outbox_publish_after_idx ON notification_outbox (publish_after) WHERE publish_after IS NOT NULL",
    );
  }

  override down(): void {
    // Rows that waited are published at once afterwards: a retry sent early, nothing lost.
    this.addSql("DROP INDEX notification_outbox_publish_after_idx");
    this.addSql("ALTER TABLE notification_outbox DROP COLUMN publish_after");
  }
}
