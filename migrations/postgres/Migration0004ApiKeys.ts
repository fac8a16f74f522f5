import { Migration } from "@mikro-orm/migrations";

/** API keys of machine callers: the SHA-256 of each secret, never the secret itself. */
export class Migration0004ApiKeys extends Migration {
  override name = "0004_api_keys";

  override up(): void {
    this.addSql(`
      CREATE TABLE api_keys (
        id UUID PRIMARY KEY,
        name VARCHAR(200) NOT NULL,
        prefix VARCHAR(32) NOT NULL,
        secret_hash CHAR(64) NOT NULL,
        roles TEXT[] NOT NULL CHECK (
          cardinality(roles) > 0
          AND roles <@ ARRAY['admin', 'marketer', 'support', 'service', 'user']::TEXT[]
        ),
        expire_time TIMESTAMPTZ,
        revoke_time TIMESTAMPTZ,
        create_time TIMESTAMPTZ NOT NULL DEFAULT now(),
        created_by VARCHAR(255) NOT NULL
      )`);
    this.addSql("CREATE INDEX idx_api_keys_create_time ON api_keys (create_time DESC)");
    this.addSql("COMMENT ON TABLE api_keys IS 'API-ключи сервисов; хранится только SHA-256 секрета.'");
  }

  override down(): void {
    this.addSql("DROP TABLE api_keys");
  }
}
