import type { ServiceImpl } from "@connectrpc/connect";
import type { PreferenceManager } from "../../core/preferences/index.ts";
import type { PreferenceService } from "../../gen/platform/notification/v1/preference_service_pb.ts";
import { preferencesMessage, settingsOf } from "../../mappers/index.ts";
import { callerKey } from "../api/caller-context.ts";

/** PreferenceService over the preference manager: each method maps the request, calls core, maps the answer. */
export function preferenceService(preferences: PreferenceManager): ServiceImpl<typeof PreferenceService> {
  return {
    async getUserPreferences(request) {
      return preferencesMessage(await preferences.get(request.userId));
    },
    async updateUserPreferences(request, context) {
      const update = {
        userId: request.userId,
        settings: settingsOf(request.preferences),
        expectedRevision: Number(request.expectedRevision),
      };
      return preferencesMessage(await preferences.update(update, context.values.get(callerKey)));
    },
  };
}
