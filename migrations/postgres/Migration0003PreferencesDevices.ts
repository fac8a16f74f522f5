import { Migration } from "@mikro-orm/migrations";

/**
 * Users' notification preferences (a row only once a user saves; until then the
 * defaults apply) and their push tokens, each token held by one user at a time.
 */
export class Migration0003PreferencesDevices extends Migration {
  override name = "0003_preferences_devices";

  override up(): void {
    this.addSql(`
      CREATE TABLE user_notification_preferences (
        user_id UUID PRIMARY KEY,
        global_unsubscribe_all BOOLEAN NOT NULL DEFAULT false,
        channel_settings JSONB NOT NULL DEFAULT '{}',
        type_preferences JSONB NOT NULL DEFAULT '{}',
        revision BIGINT NOT NULL DEFAULT 1 CHECK (revision > 0),
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
      )`);
    this.addSql(
      "COMMENT ON TABLE user_notification_preferences IS 'Предпочтения пользователей по каналам и типам уведомлений, глобальная отписка.'",
    );
    this.addSql(`
      CREATE TABLE device_tokens (
        id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id UUID NOT NULL,
        device_platform VARCHAR(16) NOT NULL CHECK (device_platform IN ('android_fcm', 'ios_apns')),
        token TEXT NOT NULL,
        last_seen_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        is_active BOOLEAN NOT NULL DEFAULT true,
        app_version VARCHAR(64),
        created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        CONSTRAINT uq_device_tokens_token UNIQUE (token)
      )`);
    // A user's devices, most recently seen first: the device list and the push dispatch.
    this.addSql("CREATE INDEX idx_device_tokens_user_seen ON device_tokens (user_id, last_seen_at DESC)");
    this.addSql("COMMENT ON TABLE device_tokens IS 'Токены устройств пользователей для push-уведомлений.'");
  }

  override down(): void {
    this.addSql("DROP TABLE device_tokens");
    this.addSql("DROP TABLE user_notification_preferences");
  }
}
