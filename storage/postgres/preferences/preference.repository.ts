import { LockMode, type MikroORM, UniqueConstraintViolationException } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { Caller } from "../../../core/caller.ts";
import type {
  PreferenceSettings,
  PreferenceStore,
  UserPreferences,
} from "../../../core/preferences/index.ts";
import { storableUserId } from "../../../core/uuids.ts";
import { recordAudit } from "../audit.ts";
import { keyedAsGiven, storableUserIds } from "../users-by-id.ts";
import { PreferenceRow } from "./preference-row.ts";

type PreferenceEntity = InstanceType<typeof PreferenceRow.class>;

// Two first saves of the same user race on the primary key; the loser runs again and
// then finds the winner's row to lock. A third loss would mean something else is wrong.
const FIRST_SAVE_ATTEMPTS = 3;

/** PreferenceStore on PostgreSQL through MikroORM; each call works in its own fork of the entity manager. */
export class PreferenceRepository implements PreferenceStore {
  constructor(private readonly orm: MikroORM) {}

  keeps(userId: string): boolean {
    return storableUserId(userId);
  }

  async find(userId: string): Promise<UserPreferences | undefined> {
    if (!storableUserId(userId)) return undefined;
    const row = await this.orm.em.fork().findOne(PreferenceRow, { userId });
    return row ? preferencesOf(row) : undefined;
  }

  async findMany(userIds: readonly string[]): Promise<Map<string, UserPreferences>> {
    const storable = storableUserIds(userIds);
    if (storable.length === 0) return new Map();
    const rows = await this.orm.em.fork().find(PreferenceRow, { userId: { $in: storable } });
    return keyedAsGiven(userIds, new Map(rows.map((row) => [row.userId, preferencesOf(row)])));
  }

  async modify(
    userId: string,
    caller: Caller,
    change: (current: UserPreferences | undefined) => PreferenceSettings,
  ): Promise<UserPreferences> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.orm.em
          .fork()
          .transactional((em) => this.modifyIn(em as EntityManager, userId, caller, change));
      } catch (error) {
        const lostTheRace = error instanceof UniqueConstraintViolationException;
        if (!lostTheRace || attempt >= FIRST_SAVE_ATTEMPTS) throw error;
      }
    }
  }

  private async modifyIn(
    em: EntityManager,
    userId: string,
    caller: Caller,
    change: (current: UserPreferences | undefined) => PreferenceSettings,
  ): Promise<UserPreferences> {
    const row = await em.findOne(PreferenceRow, { userId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    const before = row ? preferencesOf(row) : undefined;
    const settings = change(before);
    const fields = {
      globalUnsubscribeAll: settings.globalUnsubscribe,
      channelSettings: settings.channels,
      typePreferences: settings.types,
      revision: (before?.revision ?? 0) + 1,
      updatedAt: new Date(),
    };
    // Replace, never merge: a type the user left out must go back to its default.
    const saved = row
      ? em.assign(row, fields, { mergeObjectProperties: false })
      : em.create(PreferenceRow, { userId, ...fields });
    const after = preferencesOf(saved);
    recordAudit(em, {
      caller,
      action: "preferences.update",
      resourceType: "user_preferences",
      resourceId: userId,
      before,
      after,
    });
    return after;
  }
}

function preferencesOf(row: PreferenceEntity): UserPreferences {
  return {
    userId: row.userId,
    globalUnsubscribe: row.globalUnsubscribeAll,
    channels: row.channelSettings,
    types: row.typePreferences,
    isDefault: false,
    revision: row.revision,
    updatedAt: row.updatedAt,
  };
}
