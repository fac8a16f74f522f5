import { Migration } from "@mikro-orm/migrations";

/**
 * Audience segments uploaded to this service (a campaign's target_segment_id "upload:<id>"):
 * the segment with the report of its upload, and its members, one row per distinct user.
 *
 * The members have no foreign key to their segment: its check is a lookup of the segment
 * for each of millions of inserted rows. The repository deletes a segment's members with it,
 * in one transaction, and inserts them only under the segment's lock.
 */
export class Migration0015Segments extends Migration {
  override name = "0015_segments";

  override up(): void {
    this.addSql(`
      CREATE TABLE notification_segments (
        id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
        name VARCHAR(255) NOT NULL,
        description TEXT,
        status VARCHAR(32) NOT NULL DEFAULT 'awaiting_upload' CHECK (status IN ('awaiting_upload', 'ready')),
        member_count BIGINT NOT NULL DEFAULT 0,
        -- {format, rows, membersAdded, duplicates, badRows, firstBadRows: [{line, reason, detail}]}
        upload_report JSONB,
        created_by_subject VARCHAR(255) NOT NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        uploaded_at TIMESTAMPTZ
      )`);
    // ListSegments pages newest first.
    this.addSql(
      "CREATE INDEX idx_notification_segments_created ON notification_segments (created_at DESC, id DESC)",
    );
    this.addSql(
      "COMMENT ON TABLE notification_segments IS 'Загруженные сегменты аудитории для кампаний (target_segment_id upload:<id>).'",
    );
    // The key is the order members are read in, so a page from a cursor is one index range,
    // and a duplicate id collapses into the row already there.
    this.addSql(`
      CREATE TABLE notification_segment_members (
        segment_id UUID NOT NULL,
        user_id UUID NOT NULL,
        PRIMARY KEY (segment_id, user_id)
      )`);
  }

  override down(): void {
    this.addSql("DROP TABLE notification_segment_members");
    this.addSql("DROP TABLE notification_segments");
  }
}
