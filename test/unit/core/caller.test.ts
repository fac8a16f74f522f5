import { describe, expect, it } from "vitest";
import { actorOf, MAX_SUBJECT_LENGTH, machineCaller } from "../../../core/caller.ts";
import { mayMoveTokens } from "../../../core/devices/index.ts";

describe("machineCaller", () => {
  it("acts as a service, named in the audit log as machine work", () => {
    const caller = machineCaller("kafka:com.platform.notification.send.request.v1");
    expect(caller.roles).toEqual(["service"]);
    expect(actorOf(caller)).toEqual({
      type: "machine",
      id: "kafka:com.platform.notification.send.request.v1",
    });
    expect(mayMoveTokens(caller)).toBe(true);
    expect(Object.isFrozen(caller)).toBe(true);
  });

  it("needs a name the audit log can hold", () => {
    expect(() => machineCaller("")).toThrow(/1 to 255 characters/);
    expect(() => machineCaller("x".repeat(MAX_SUBJECT_LENGTH + 1))).toThrow(/1 to 255 characters/);
    expect(machineCaller("x".repeat(MAX_SUBJECT_LENGTH)).subject).toHaveLength(MAX_SUBJECT_LENGTH);
  });
});
