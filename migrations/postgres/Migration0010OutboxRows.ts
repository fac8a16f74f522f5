import { Migration } from "@mikro-orm/migrations";

// One event in the layout of storage/postgres/sending/outbox-rows.ts: key, headers, value,
// each after its length in 4 big-endian bytes (int4send).
const PACKED_EVENT = `int4send(octet_length(convert_to(event_key, 'UTF8'))) || convert_to(event_key, 'UTF8')
  || int4send(octet_length(convert_to(headers::text, 'UTF8'))) || convert_to(headers::text, 'UTF8')
  || int4send(octet_length(event_value)) || event_value`;

/**
 * An outbox row holds the events of one topic that one transaction enqueued, packed into one
 * value, instead of one event: a send of a few hundred messages wrote as many rows, index
 * entries and deletes as it had events. Rows waiting when this runs become rows of one event.
 * The packed events are compressed with lz4, which is fast enough not to be felt.
 */
export class Migration0010OutboxRows extends Migration {
  override name = "0010_outbox_rows";

  override up(): void {
    this.addSql(
      "ALTER TABLE notification_outbox ADD COLUMN events BYTEA COMPRESSION lz4, ADD COLUMN event_count INTEGER",
    );
    this.addSql(`UPDATE notification_outbox SET events = ${PACKED_EVENT}, event_count = 1`);
    this.addSql(`ALTER TABLE notification_outbox
      ALTER COLUMN events SET NOT NULL,
      ALTER COLUMN event_count SET NOT NULL,
      ADD CONSTRAINT notification_outbox_event_count_check CHECK (event_count > 0),
      DROP COLUMN event_key,
      DROP COLUMN event_value,
      DROP COLUMN headers`);
  }

  override down(): void {
    // Packed rows are not unpacked in SQL: going back waits for the relay to empty the outbox.
    this.addSql(`DO $$ BEGIN
      IF EXISTS (SELECT 1 FROM notification_outbox) THEN
        RAISE EXCEPTION 'events still wait in the outbox; let the worker publish them before going back';
      END IF; END $$`);
    this.addSql(`ALTER TABLE notification_outbox
      DROP COLUMN events, DROP COLUMN event_count,
      ADD COLUMN event_key VARCHAR(255) NOT NULL, ADD COLUMN event_value BYTEA NOT NULL,
      ADD COLUMN headers JSONB NOT NULL DEFAULT '{}'`);
  }
}
