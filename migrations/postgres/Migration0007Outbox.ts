import { Migration } from "@mikro-orm/migrations";

/**
 * The transactional outbox: events written in the transaction of the change they tell of,
 * published to Kafka by the relay afterwards. An event is never lost (it is removed only
 * once Kafka acknowledged it) and never published for a change that rolled back.
 */
export class Migration0007Outbox extends Migration {
  override name = "0007_outbox";

  override up(): void {
    this.addSql(`
      CREATE TABLE notification_outbox (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        topic VARCHAR(249) NOT NULL,
        event_key VARCHAR(255) NOT NULL,
        event_value BYTEA NOT NULL,
        headers JSONB NOT NULL DEFAULT '{}',
        enqueued_at TIMESTAMPTZ NOT NULL DEFAULT now()
      )`);
    this.addSql(
      "COMMENT ON TABLE notification_outbox IS 'Исходящие события, ещё не опубликованные в Kafka.'",
    );
  }

  override down(): void {
    this.addSql("DROP TABLE notification_outbox");
  }
}
