import type { Caller } from "../caller.ts";
import { DomainError, ErrorCatalog } from "../errors.ts";
import type { NewSuppression, Suppression } from "./suppression.ts";
import type { SuppressionQuery, SuppressionStore } from "./suppression-store.ts";

/** The suppression list as admins see it: list, add by hand, lift. */
export class SuppressionManager {
  constructor(private readonly store: SuppressionStore) {}

  list(query: SuppressionQuery): Promise<{ suppressions: Suppression[]; nextCursor?: string }> {
    return this.store.list(query);
  }

  async add(entry: Omit<NewSuppression, "source" | "messageId">, caller: Caller): Promise<boolean> {
    return (await this.store.add([{ ...entry, source: `admin:${caller.subject}` }], caller)) === 1;
  }

  async lift(id: string, caller: Caller): Promise<Suppression> {
    const lifted = await this.store.lift(id, caller);
    if (!lifted) throw new DomainError(ErrorCatalog.notFound, `no suppression ${id}`, { parameter: "id" });
    return lifted;
  }
}
