import { randomUUID } from "node:crypto";
import { LockMode, type MikroORM, UniqueConstraintViolationException } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { Caller } from "../../../core/caller.ts";
import type {
  Device,
  DeviceRegistration,
  DeviceStore,
  RegisterOutcome,
} from "../../../core/devices/index.ts";
import { fingerprint } from "../../../core/personal-data.ts";
import { storableUserId } from "../../../core/uuids.ts";
import { type AuditEntry, recordAudit } from "../audit.ts";
import { keyedAsGiven, storableUserIds } from "../users-by-id.ts";
import { DeviceRow } from "./device-row.ts";

type DeviceEntity = InstanceType<typeof DeviceRow.class>;

// Registrations of a new token race on its unique index; the loser runs again and finds
// the winner's row under a row lock, then moves it or not as the caller may.
const REGISTER_ATTEMPTS = 3;

/** DeviceStore on PostgreSQL through MikroORM; each call works in its own fork of the entity manager. */
export class DeviceRepository implements DeviceStore {
  constructor(private readonly orm: MikroORM) {}

  async register(
    registration: DeviceRegistration,
    seenAt: Date,
    caller: Caller,
    options: { moveFromAnotherUser: boolean },
  ): Promise<RegisterOutcome> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.write((em) => this.registerIn(em, registration, seenAt, caller, options));
      } catch (error) {
        const lostTheRace = error instanceof UniqueConstraintViolationException;
        if (!lostTheRace || attempt >= REGISTER_ATTEMPTS) throw error;
      }
    }
  }

  async listByUser(userId: string): Promise<Device[]> {
    if (!storableUserId(userId)) return [];
    const rows = await this.orm.em
      .fork()
      .find(DeviceRow, { userId }, { orderBy: { lastSeenAt: "desc", id: "asc" } });
    return rows.map(deviceOf);
  }

  async listByUsers(userIds: readonly string[]): Promise<Map<string, Device[]>> {
    const storable = storableUserIds(userIds);
    if (storable.length === 0) return new Map();
    const rows = await this.orm.em
      .fork()
      .find(DeviceRow, { userId: { $in: storable } }, { orderBy: { lastSeenAt: "desc", id: "asc" } });
    const byUser = new Map<string, Device[]>();
    for (const device of rows.map(deviceOf)) {
      const devices = byUser.get(device.userId) ?? [];
      devices.push(device);
      byUser.set(device.userId, devices);
    }
    return keyedAsGiven(userIds, byUser);
  }

  deactivate(userId: string, deviceId: string, caller: Caller): Promise<Device | undefined> {
    return this.write(async (em) => {
      const row = await lockDevice(em, userId, deviceId);
      if (!row) return undefined;
      const before = deviceOf(row);
      em.assign(row, { isActive: false, updatedAt: new Date() });
      const after = deviceOf(row);
      recordAudit(em, deviceAudit(caller, "device.deactivate", deviceId, before, after));
      return after;
    });
  }

  deactivateTokens(tokens: string[], caller: Caller): Promise<Device[]> {
    if (tokens.length === 0) return Promise.resolve([]);
    return this.write(async (em) => {
      const rows = await em.find(
        DeviceRow,
        { token: { $in: tokens }, isActive: true },
        { lockMode: LockMode.PESSIMISTIC_WRITE },
      );
      return rows.map((row) => {
        const before = deviceOf(row);
        em.assign(row, { isActive: false, updatedAt: new Date() });
        const after = deviceOf(row);
        recordAudit(em, deviceAudit(caller, "device.deactivate", row.id, before, after));
        return after;
      });
    });
  }

  delete(userId: string, deviceId: string, caller: Caller): Promise<boolean> {
    return this.write(async (em) => {
      const row = await lockDevice(em, userId, deviceId);
      if (!row) return false;
      em.remove(row);
      recordAudit(em, deviceAudit(caller, "device.delete", deviceId, deviceOf(row), undefined));
      return true;
    });
  }

  private write<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.orm.em.fork().transactional((em) => work(em as EntityManager));
  }

  private async registerIn(
    em: EntityManager,
    registration: DeviceRegistration,
    seenAt: Date,
    caller: Caller,
    options: { moveFromAnotherUser: boolean },
  ): Promise<RegisterOutcome> {
    const row = await em.findOne(
      DeviceRow,
      { token: registration.token },
      { lockMode: LockMode.PESSIMISTIC_WRITE },
    );
    const moving = row !== null && row.userId !== registration.userId;
    if (moving && !options.moveFromAnotherUser) return { kind: "held_by_another_user" };
    const fields = {
      userId: registration.userId,
      devicePlatform: registration.platform,
      appVersion: registration.appVersion || null,
      lastSeenAt: seenAt,
      isActive: true,
      updatedAt: new Date(),
    };
    const before = row ? deviceOf(row) : undefined;
    const saved = row
      ? em.assign(row, fields)
      : em.create(DeviceRow, {
          id: randomUUID(),
          token: registration.token,
          createdAt: new Date(),
          ...fields,
        });
    const after = deviceOf(saved);
    recordAudit(em, deviceAudit(caller, moving ? "device.move" : "device.register", after.id, before, after));
    return { kind: "saved", device: after };
  }
}

function lockDevice(em: EntityManager, userId: string, deviceId: string): Promise<DeviceEntity | null> {
  return em.findOne(DeviceRow, { id: deviceId, userId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
}

function deviceOf(row: DeviceEntity): Device {
  return {
    id: row.id,
    userId: row.userId,
    platform: row.devicePlatform,
    token: row.token,
    appVersion: row.appVersion ?? "",
    active: row.isActive,
    lastSeenAt: row.lastSeenAt,
    createdAt: row.createdAt,
  };
}

// A token is personal data (ФЗ-152): the audit log keeps its fingerprint, which still
// tells whether two records are about the same token.
function deviceAudit(
  caller: Caller,
  action: string,
  deviceId: string,
  before: Device | undefined,
  after: Device | undefined,
): AuditEntry {
  return {
    caller,
    action,
    resourceType: "device",
    resourceId: deviceId,
    before: auditView(before),
    after: auditView(after),
  };
}

function auditView(device: Device | undefined) {
  if (!device) return undefined;
  const { token, ...rest } = device;
  return { ...rest, tokenFingerprint: fingerprint(token) };
}
