import { Migration } from "@mikro-orm/migrations";

/** Every admin write is recorded: who did what to which resource, with the state before and after. */
export class Migration0001AuditLog extends Migration {
  override name = "0001_audit_log";

  override up(): void {
    this.addSql(`
      CREATE TABLE audit_log (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        occurred_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        actor_type VARCHAR(32) NOT NULL,
        actor_id VARCHAR(255) NOT NULL,
        action VARCHAR(128) NOT NULL,
        resource_type VARCHAR(64) NOT NULL,
        resource_id VARCHAR(255) NOT NULL,
        before JSONB,
        after JSONB,
        request_id VARCHAR(128)
      )`);
    this.addSql(
      "CREATE INDEX idx_audit_log_resource ON audit_log (resource_type, resource_id, occurred_at DESC)",
    );
    this.addSql("CREATE INDEX idx_audit_log_actor ON audit_log (actor_id, occurred_at DESC)");
    this.addSql("COMMENT ON TABLE audit_log IS 'Журнал изменений, сделанных администраторами и сервисами.'");
  }

  override down(): void {
    this.addSql("DROP TABLE audit_log");
  }
}
