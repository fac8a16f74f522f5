import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { Channel } from "../../core/channels.ts";
import {
  BreakerState,
  ListProvidersResponseSchema,
  type ProviderService,
} from "../../gen/platform/notification/v1/provider_service_pb.ts";
import { protoChannelOf } from "../../mappers/index.ts";
import type { ProviderStatusBoard, ProviderWorkerReport } from "../../storage/index.ts";

/** A provider as configured: what admins may know of it, never its credentials. */
export interface ConfiguredProvider {
  name: string;
  channels: Channel[];
  kind: string;
  position: number;
  ratePerSecond: number;
}

const PROTO_BREAKER: Record<ProviderWorkerReport["state"], BreakerState> = {
  closed: BreakerState.CLOSED,
  half_open: BreakerState.HALF_OPEN,
  open: BreakerState.OPEN,
};

/** ProviderService: the configured providers beside what the workers last posted of their breakers. */
export function providerService(deps: {
  catalog: ConfiguredProvider[];
  board: Pick<ProviderStatusBoard, "read">;
}): ServiceImpl<typeof ProviderService> {
  return {
    async listProviders() {
      const reports = await deps.board.read();
      return create(ListProvidersResponseSchema, {
        providers: deps.catalog.map((provider) => {
          const workers = reports.filter((report) => report.provider === provider.name);
          return {
            name: provider.name,
            channels: provider.channels.map(protoChannelOf),
            kind: provider.kind,
            position: provider.position,
            ratePerSecond: provider.ratePerSecond,
            // The worst one: a breaker open anywhere is what an admin must see first.
            breaker: Math.max(
              BreakerState.UNSPECIFIED,
              ...workers.map((report) => PROTO_BREAKER[report.state]),
            ),
            workers: workers.map((report) => ({
              worker: report.worker,
              breaker: PROTO_BREAKER[report.state],
              reportTime: timestampFromDate(report.reportedAt),
            })),
          };
        }),
      });
    },
  };
}
