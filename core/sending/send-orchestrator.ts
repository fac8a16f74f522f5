import { randomUUID } from "node:crypto";
import type { Channel } from "../channels.ts";
import type { ActiveDevices, PushTargets } from "../devices/index.ts";
import { DomainError, ErrorCatalog } from "../errors.ts";
import type {
  ReceiveDecider,
  ReceivePolicy,
  UnsubscribeLinks,
  UnsubscribeScope,
} from "../preferences/index.ts";
import type { SuppressionStore } from "../suppressions/index.ts";
import {
  type RenderedContent,
  type RenderLimits,
  renderContent,
  type SendableContent,
  type SendableTemplates,
  type TemplateCompiler,
} from "../templates/index.ts";
import { type Delivery, expandDeliveries, usersWithStoredDevices } from "./deliveries.ts";
import type { DeliveryClaim } from "./delivery-claims.ts";
import type { DispatchJob, DispatchQueue } from "./dispatch-job.ts";
import type { CampaignMessageCounts, FrequencyCap } from "./frequency-cap.ts";
import type { NewMessage, StatusChange } from "./message-log.ts";
import type { InitialStatus, MessageStatus } from "./message-status.ts";
import type { OutboxEvent } from "./outbox.ts";
import { addressOf, type Destination } from "./provider.ts";
import type { SendRequest } from "./send-request.ts";
import type { MessageStatusEvent, StatusEventEncoder } from "./status-event.ts";
import type { SendTransaction, UnitOfWork } from "./unit-of-work.ts";

export interface SendOrchestratorDeps {
  unitOfWork: UnitOfWork;
  templates: SendableTemplates;
  receivePolicy: ReceivePolicy;
  pushTargets: PushTargets;
  compiler: TemplateCompiler;
  renderLimits: RenderLimits;
  statusEvents: StatusEventEncoder;
  dispatchQueue: DispatchQueue;
  /** Addresses a channel no longer sends to (hard bounces, complaints, dead numbers); none: no check. */
  suppressions?: Pick<SuppressionStore, "find">;
  /** Gives each email to a known user its one-click unsubscribe link; none: emails go without. */
  unsubscribeLinks?: Pick<UnsubscribeLinks, "urlFor">;
  /**
   * Rewrites a queued email's HTML for open and click tracking (core/tracking's
   * EmailTracking), where its template and request allow; none: no email is tracked.
   */
  tracking?: { track(html: string, messageId: string): string };
  /** Campaign messages (requests with a campaign id) to a user over the cap end `suppressed`; none: no cap. */
  frequencyCap?: { cap: FrequencyCap; counts: CampaignMessageCounts };
  now?: () => Date;
}

/** Why a whole request is refused: nothing of it could ever be sent. */
export type RejectReason =
  | "unknown_template"
  | "no_active_version"
  | "unknown_version"
  | "no_content_for_locale"
  | "no_usable_recipient";

/** What became of one request handed to the orchestrator. */
export type SendVerdict =
  | { requestId: string; outcome: "accepted"; messages: AcceptedMessage[]; scheduledFor?: Date }
  /** Every delivery of it was claimed before: it arrived twice, and was sent once. */
  | { requestId: string; outcome: "duplicate" }
  | { requestId: string; outcome: "rejected"; reason: RejectReason; detail: string };

/** A message this call recorded, and the status it started in. */
export interface AcceptedMessage {
  messageId: string;
  channel: Channel;
  recipientKey: string;
  status: MessageStatus;
  reason?: string;
}

type Rejected = Extract<SendVerdict, { outcome: "rejected" }>;

/** A delivery as planned before its transaction: the status it starts in and what it sends. */
interface PlannedDelivery {
  delivery: Delivery;
  status: InitialStatus;
  /** The code of a failure, suppression or expiry. */
  reason?: string;
  reasonDetail?: string;
  content?: RenderedContent;
  template: SendableContent;
  /** Its email's unsubscribe link, made once its message id is known so the link can name it. */
  unsubscribe?: UnsubscribeScope;
  /** Its email's HTML gets its tracking once its message id is known. */
  tracked?: boolean;
}

interface Plan {
  request: SendRequest;
  deliveries: PlannedDelivery[];
  /** Set when the request waits for its send time. */
  scheduledFor?: Date;
  expiresAt?: Date;
}

/**
 * The way of a send request up to its dispatch (DESIGN §4): its recipients expanded into one
 * delivery per channel and device, each claimed once whatever arrives twice, then recorded
 * as waiting for its time, expired, suppressed by the user's preferences, failed, or
 * rendered and queued for a dispatcher, with a status event for each; all of one batch in
 * one transaction.
 */
export class SendOrchestrator {
  private readonly now: () => Date;

  constructor(private readonly deps: SendOrchestratorDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Takes new requests (from Kafka, or the API): one verdict per request, in their order. */
  accept(requests: SendRequest[]): Promise<SendVerdict[]> {
    return this.run(requests, false);
  }

  /**
   * Sends requests whose send time came: their deliveries, claimed when they were scheduled,
   * go on from `scheduled`. Idempotent: one released twice (a crash before the schedule
   * marked it) is sent once, and one cancelled meanwhile not at all.
   */
  release(requests: SendRequest[]): Promise<SendVerdict[]> {
    return this.run(requests, true);
  }

  /**
   * Keeps a request for a worker to expand later, at its send time or now: a bulk send is
   * answered at once, however many recipients it has. "duplicate" when one with its id was
   * kept before; one whose deliveries were claimed another way is released as a repeat.
   */
  async keep(request: SendRequest): Promise<SendVerdict> {
    const { requestId } = request;
    // What would refuse the whole request later is refused now, while the caller waits.
    const contents = await this.contentsOf(request, new Map());
    if (!(contents instanceof Map)) return contents;
    const sendAt = request.sendAt ?? request.receivedAt;
    const kept = await this.deps.unitOfWork.run((tx) => tx.schedule.add({ ...request, sendAt }));
    return kept
      ? { requestId, outcome: "accepted", messages: [], scheduledFor: sendAt }
      : { requestId, outcome: "duplicate" };
  }

  /** Cancels a request that waits for its time: its messages end `cancelled`. False when none waits. */
  cancel(requestId: string): Promise<{ cancelled: false } | { cancelled: true; messages: number }> {
    return this.deps.unitOfWork.run(async (tx) => {
      if (!(await tx.schedule.cancel(requestId))) return { cancelled: false };
      const cancelled = await tx.messages.endWaiting(requestId, { status: "cancelled", at: this.now() });
      await tx.outbox.enqueue(this.deps.statusEvents.encode(cancelled));
      return { cancelled: true, messages: cancelled.length };
    });
  }

  private async run(requests: SendRequest[], releasing: boolean): Promise<SendVerdict[]> {
    const lookups = new Map<string, Promise<Lookup>>();
    // What every request of the batch needs of preferences and devices, each read at once. A
    // campaign's chunk reaches each of its users once.
    const [receives, devices] = await Promise.all([
      this.deps.receivePolicy.of(
        requests.flatMap((request) => request.recipients.flatMap(({ userId }) => (userId ? [userId] : []))),
        requests.every((request) => request.campaignId !== undefined) ? "once" : "repeatedly",
      ),
      this.deps.pushTargets.of(usersWithStoredDevices(requests)),
    ]);
    const plans: Plan[] = [];
    const verdicts = new Map<SendRequest, SendVerdict>();
    // One request id twice in a batch is one request: the second is a duplicate of the first.
    const seen = new Set<string>();
    for (const request of requests) {
      if (seen.has(request.requestId)) {
        verdicts.set(request, { requestId: request.requestId, outcome: "duplicate" });
        continue;
      }
      seen.add(request.requestId);
      const plan = await this.plan(request, releasing, lookups, receives, devices);
      if ("reason" in plan) verdicts.set(request, plan);
      else plans.push(plan);
    }
    await this.suppressListed(plans);
    await this.capFrequency(plans);
    // A request released and refused (its template deleted meanwhile) must not wait forever.
    const refused = [...verdicts.values()].filter((verdict) => verdict.outcome === "rejected");
    if (releasing && refused.length > 0) await this.failWaiting(refused);
    if (plans.length > 0) {
      const written =
        (await this.writeFresh(plans, releasing)) ??
        (await this.deps.unitOfWork.run((tx) => this.write(tx, plans, releasing)));
      for (const [request, verdict] of written) verdicts.set(request, verdict);
    }
    return requests.map((request) => verdicts.get(request) as SendVerdict);
  }

  /** Deliveries about to be queued whose address is on the suppression list end `suppressed` instead: one look for the whole batch. */
  private async suppressListed(plans: Plan[]): Promise<void> {
    const suppressions = this.deps.suppressions;
    if (!suppressions) return;
    const queued: { plan: Plan; index: number; destination: Destination }[] = [];
    for (const plan of plans) {
      for (const [index, planned] of plan.deliveries.entries()) {
        const destination = planned.delivery.destination;
        if (planned.status === "queued" && destination && destination.channel !== "in_app") {
          queued.push({ plan, index, destination });
        }
      }
    }
    if (queued.length === 0) return;
    const found = await suppressions.find(
      queued.map(({ destination }) => ({ channel: destination.channel, recipient: addressOf(destination) })),
    );
    for (const [at, reason] of found) {
      const { plan, index } = queued[at] as (typeof queued)[number];
      const planned = plan.deliveries[index] as PlannedDelivery;
      plan.deliveries[index] = {
        delivery: planned.delivery,
        template: planned.template,
        status: "suppressed",
        reason: `SUPPRESSED_${reason.toUpperCase()}`,
        reasonDetail: `the address is on the channel's suppression list: ${reason}`,
      };
    }
  }

  /**
   * Campaign deliveries about to be queued to users who already got the cap's number of
   * campaign messages in its window end `suppressed` (FREQUENCY_CAP) instead: one count for
   * the whole batch. Two campaigns reaching a user at the same moment may both pass it.
   */
  private async capFrequency(plans: Plan[]): Promise<void> {
    const frequency = this.deps.frequencyCap;
    if (!frequency) return;
    const { cap } = frequency;
    const capped = plans.filter((plan) => plan.request.campaignId !== undefined);
    const users = new Set<string>();
    for (const plan of capped) {
      for (const planned of plan.deliveries) {
        if (planned.status === "queued" && planned.delivery.userId) users.add(planned.delivery.userId);
      }
    }
    if (users.size === 0) return;
    const counts = await frequency.counts.countSince(
      [...users],
      new Date(this.now().getTime() - cap.windowMs),
    );
    for (const plan of capped) {
      for (const [index, planned] of plan.deliveries.entries()) {
        const userId = planned.delivery.userId;
        const count = userId ? (counts.get(userId) ?? 0) : 0;
        if (planned.status !== "queued" || count < cap.messages) continue;
        plan.deliveries[index] = {
          delivery: planned.delivery,
          template: planned.template,
          status: "suppressed",
          reason: "FREQUENCY_CAP",
          reasonDetail: `the user got ${count} campaign messages in the cap's window (at most ${cap.messages} in ${cap.windowMs / 1000} s)`,
        };
      }
    }
  }

  private failWaiting(refused: Rejected[]): Promise<void> {
    return this.deps.unitOfWork.run(async (tx) => {
      for (const verdict of refused) {
        const failed = await tx.messages.endWaiting(verdict.requestId, {
          status: "failed",
          at: this.now(),
          reason: verdict.reason.toUpperCase(),
          reasonDetail: verdict.detail,
        });
        await tx.outbox.enqueue(this.deps.statusEvents.encode(failed));
      }
    });
  }

  private async plan(
    request: SendRequest,
    releasing: boolean,
    lookups: Map<string, Promise<Lookup>>,
    receives: ReceiveDecider,
    devices: ActiveDevices,
  ): Promise<Plan | Rejected> {
    const deliveries = expandDeliveries(request, devices);
    if (!deliveries.some((delivery) => delivery.destination)) {
      return {
        requestId: request.requestId,
        outcome: "rejected",
        reason: "no_usable_recipient",
        detail: "no recipient has an address, a phone, a device or a user id for the channels asked",
      };
    }
    const contents = await this.contentsOf(request, lookups);
    if (!(contents instanceof Map)) return contents;
    const now = this.now();
    const dueAt = request.sendAt ?? request.receivedAt;
    const expiresAt = request.ttlSeconds ? new Date(dueAt.getTime() + request.ttlSeconds * 1000) : undefined;
    const waits = !releasing && request.sendAt !== undefined && request.sendAt > now;
    const expired = expiresAt !== undefined && now > expiresAt;
    const rendered = new Map<string, Promise<RenderedContent | DomainError>>();
    const planned: PlannedDelivery[] = [];
    for (const delivery of deliveries) {
      const template = contents.get(delivery.key.channel) as SendableContent;
      const base = { delivery, template };
      if (!delivery.destination) {
        planned.push({
          ...base,
          status: "failed",
          reason: delivery.missing,
          reasonDetail: missingDetail(delivery),
        });
      } else if (waits) {
        planned.push({ ...base, status: "scheduled" });
      } else if (expired) {
        planned.push({
          ...base,
          status: "expired",
          reason: "TTL_EXPIRED",
          reasonDetail: "its time to live ran out before it was sent",
        });
      } else {
        planned.push(await this.decide(request, base, rendered, receives));
      }
    }
    return {
      request,
      deliveries: planned,
      ...(waits ? { scheduledFor: request.sendAt as Date } : {}),
      ...(expiresAt ? { expiresAt } : {}),
    };
  }

  /** Preferences first (a suppressed message is never rendered), then the render. */
  private async decide(
    request: SendRequest,
    base: Pick<PlannedDelivery, "delivery" | "template">,
    rendered: Map<string, Promise<RenderedContent | DomainError>>,
    receives: ReceiveDecider,
  ): Promise<PlannedDelivery> {
    const { delivery, template } = base;
    if (delivery.userId) {
      const decision = receives(delivery.userId, {
        type: request.templateName,
        channel: delivery.key.channel,
      });
      if (!decision.receive) {
        return {
          ...base,
          status: "suppressed",
          reason: decision.reason.toUpperCase(),
          reasonDetail: `the user's preferences: ${decision.reason}`,
        };
      }
    }
    // The variables are the request's, so one render serves all its recipients of a template.
    const content = await memo(rendered, `${template.templateId}\u0000${template.content.languageCode}`, () =>
      renderContent(this.deps.compiler, template.content, request.variables, this.deps.renderLimits).catch(
        (error: unknown) => {
          if (error instanceof DomainError && error.entry === ErrorCatalog.templateRenderLimit) return error;
          throw error;
        },
      ),
    );
    if (content instanceof DomainError) {
      return { ...base, status: "failed", reason: "TEMPLATE_RENDER_LIMIT", reasonDetail: content.detail };
    }
    const unsubscribe: UnsubscribeScope | undefined =
      this.deps.unsubscribeLinks && delivery.userId && delivery.key.channel === "email"
        ? { userId: delivery.userId, type: request.templateName, channel: "email" }
        : undefined;
    const tracked =
      this.deps.tracking !== undefined &&
      delivery.key.channel === "email" &&
      content.bodyHtml !== "" &&
      template.trackingEnabled &&
      request.trackingEnabled !== false;
    return {
      ...base,
      status: "queued",
      content,
      ...(unsubscribe ? { unsubscribe } : {}),
      ...(tracked ? { tracked } : {}),
    };
  }

  /** The content of each channel asked for, or why the request can never be sent. */
  private async contentsOf(
    request: SendRequest,
    lookups: Map<string, Promise<Lookup>>,
  ): Promise<Map<string, SendableContent> | Rejected> {
    const contents = new Map<string, SendableContent>();
    for (const channel of request.channels) {
      const lookup = await memo(
        lookups,
        `${request.templateName}\u0000${channel}\u0000${request.languageCode}\u0000${request.templateVersion ?? 0}`,
        () => this.lookup(request, channel),
      );
      if (!lookup.found) {
        return {
          requestId: request.requestId,
          outcome: "rejected",
          reason: lookup.reason,
          detail: lookupDetail(request.templateName, lookup.reason),
        };
      }
      contents.set(channel, lookup.sendable);
    }
    return contents;
  }

  private async lookup(request: SendRequest, channel: string): Promise<Lookup> {
    const { templateName, languageCode, templateVersion } = request;
    // A version asked for by number is that template's, whatever channel templates there are.
    if (templateVersion)
      return this.deps.templates.versionContent(templateName, templateVersion, languageCode);
    // A template of its own for a channel (`order_confirmation.sms`) wins over the common one.
    // Both are read at once: one wait on the database instead of two in a row.
    const [own, common] = await Promise.all([
      this.deps.templates.activeContent(`${templateName}.${channel}`, languageCode),
      this.deps.templates.activeContent(templateName, languageCode),
    ]);
    return own.found || own.reason !== "unknown_template" ? own : common;
  }

  /**
   * The common case in one round trip: requests that send now and were never seen, their
   * message ids chosen here. Undefined when that is not the case (a release, a request that
   * waits for its time, a repeat the store refused): `write` then sorts out what was claimed.
   */
  private async writeFresh(plans: Plan[], releasing: boolean) {
    if (releasing || plans.some((plan) => plan.scheduledFor)) return undefined;
    const recording = new Recording(this.now(), this.outgoing);
    const claims: DeliveryClaim[] = [];
    for (const plan of plans) {
      for (const planned of plan.deliveries) {
        const claim = { key: planned.delivery.key, messageId: randomUUID(), duplicate: false };
        claims.push(claim);
        recording.fresh(plan, planned, claim.messageId);
      }
    }
    const written = await this.deps.unitOfWork.recordFresh({
      claims,
      messages: recording.messages,
      events: this.eventsOf(recording),
    });
    return written ? recording.verdicts(plans) : undefined;
  }

  private async write(tx: SendTransaction, plans: Plan[], releasing: boolean) {
    const all = plans.flatMap((plan) => plan.deliveries.map((planned) => ({ plan, planned })));
    const claims = await tx.claims.claim(all.map(({ planned }) => planned.delivery.key));
    const recording = new Recording(this.now(), this.outgoing);
    const released: StatusChange[] = [];
    const byMessage = new Map<string, { plan: Plan; planned: PlannedDelivery }>();
    for (const [index, claim] of claims.entries()) {
      const item = all[index] as (typeof all)[number];
      const { plan, planned } = item;
      byMessage.set(claim.messageId, item);
      if (!claim.duplicate) {
        recording.fresh(plan, planned, claim.messageId);
      } else if (releasing) {
        released.push({ messageId: claim.messageId, status: "queued", at: recording.at });
        if (planned.status !== "queued") {
          released.push({
            messageId: claim.messageId,
            status: planned.status,
            at: recording.at,
            ...(planned.reason ? { details: planned.reason } : {}),
          });
        }
      }
    }
    await tx.messages.append(recording.messages);
    for (const change of released.length > 0 ? await tx.messages.record(released) : []) {
      const { plan, planned } = byMessage.get(change.messageId) as { plan: Plan; planned: PlannedDelivery };
      recording.released(plan, planned, change.messageId, change.status);
    }
    for (const plan of plans) {
      if (plan.scheduledFor && recording.recorded(plan)) {
        await tx.schedule.add({ ...plan.request, sendAt: plan.scheduledFor });
      }
    }
    await tx.outbox.enqueue(this.eventsOf(recording));
    return recording.verdicts(plans);
  }

  /**
   * What of a queued message needs its id: an email's HTML, tracked where it was decided so
   * (`decide`), and its unsubscribe link, which names the message so an unsubscribe can be
   * counted for its campaign.
   */
  private readonly outgoing = (messageId: string, planned: PlannedDelivery): Outgoing => {
    if (planned.delivery.key.channel !== "email") return { bodyHtml: "" };
    const html = (planned.content as RenderedContent).bodyHtml;
    const unsubscribeUrl = planned.unsubscribe
      ? this.deps.unsubscribeLinks?.urlFor({ ...planned.unsubscribe, messageId })
      : undefined;
    return {
      bodyHtml: planned.tracked && this.deps.tracking ? this.deps.tracking.track(html, messageId) : html,
      ...(unsubscribeUrl ? { unsubscribeUrl } : {}),
    };
  };

  private eventsOf(recording: Recording): OutboxEvent[] {
    return [
      ...this.deps.dispatchQueue.encode(recording.jobs),
      ...this.deps.statusEvents.encode(recording.events),
    ];
  }
}

/** What one write records: new messages, status events and jobs, and each request's messages for its verdict. */
class Recording {
  readonly messages: NewMessage[] = [];
  readonly events: MessageStatusEvent[] = [];
  readonly jobs: DispatchJob[] = [];
  private readonly byPlan = new Map<Plan, AcceptedMessage[]>();

  constructor(
    readonly at: Date,
    private readonly outgoing: (messageId: string, planned: PlannedDelivery) => Outgoing,
  ) {}

  /** A delivery claimed for the first time: its message, its first status and, when queued, its job. */
  fresh(plan: Plan, planned: PlannedDelivery, messageId: string): void {
    this.note(plan, planned, messageId, planned.status);
    this.messages.push(newMessage(messageId, plan, planned));
    this.events.push(statusEvent(messageId, plan, planned, planned.status, this.at));
    if (planned.status === "queued")
      this.jobs.push(dispatchJob(messageId, plan, planned, this.outgoing(messageId, planned)));
  }

  /** A change a release applied to a message claimed when its request was scheduled. */
  released(plan: Plan, planned: PlannedDelivery, messageId: string, status: MessageStatus): void {
    if (status === planned.status) this.note(plan, planned, messageId, status);
    this.events.push(statusEvent(messageId, plan, planned, status, this.at));
    if (status === "queued" && planned.status === "queued")
      this.jobs.push(dispatchJob(messageId, plan, planned, this.outgoing(messageId, planned)));
  }

  recorded(plan: Plan): boolean {
    return this.byPlan.has(plan);
  }

  verdicts(plans: Plan[]): [SendRequest, SendVerdict][] {
    return plans.map((plan): [SendRequest, SendVerdict] => {
      const messages = this.byPlan.get(plan) ?? [];
      const requestId = plan.request.requestId;
      if (messages.length === 0) return [plan.request, { requestId, outcome: "duplicate" }];
      return [
        plan.request,
        {
          requestId,
          outcome: "accepted",
          messages,
          ...(plan.scheduledFor ? { scheduledFor: plan.scheduledFor } : {}),
        },
      ];
    });
  }

  private note(plan: Plan, planned: PlannedDelivery, messageId: string, status: MessageStatus): void {
    const list = this.byPlan.get(plan) ?? [];
    list.push({
      messageId,
      channel: planned.delivery.key.channel,
      recipientKey: planned.delivery.key.recipientKey,
      status,
      ...(planned.reason && status === planned.status ? { reason: planned.reason } : {}),
    });
    this.byPlan.set(plan, list);
  }
}

/** The error an API caller gets for a request the orchestrator refused. */
export function rejectionError(verdict: Rejected): DomainError {
  switch (verdict.reason) {
    case "unknown_template":
      return new DomainError(ErrorCatalog.notFound, verdict.detail, { pointer: "/template_name" });
    case "no_active_version":
    case "unknown_version":
    case "no_content_for_locale":
      return new DomainError(ErrorCatalog.failedPrecondition, verdict.detail, { pointer: "/template_name" });
    case "no_usable_recipient":
      return new DomainError(ErrorCatalog.validation, verdict.detail, { pointer: "/recipients" });
  }
}

type Lookup = Awaited<ReturnType<SendableTemplates["activeContent"]>>;

function memo<T>(cache: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
  let value = cache.get(key);
  if (!value) {
    value = make();
    cache.set(key, value);
  }
  return value;
}

function lookupDetail(templateName: string, reason: Extract<Lookup, { found: false }>["reason"]): string {
  switch (reason) {
    case "unknown_template":
      return `there is no template named "${templateName}"`;
    case "no_active_version":
      return `the template "${templateName}" has no active version`;
    case "unknown_version":
      return `the template "${templateName}" has no such version`;
    case "no_content_for_locale":
      return `the template "${templateName}" has no content for the language asked or its default`;
  }
}

function missingDetail(delivery: Delivery & { missing: string }): string {
  return `nothing to deliver ${delivery.key.channel} to: ${delivery.missing.toLowerCase().replaceAll("_", " ")}`;
}

/** What the message's row and its events both say of it. */
function identityOf(messageId: string, plan: Plan, planned: PlannedDelivery) {
  const { request } = plan;
  return {
    messageId,
    requestId: request.requestId,
    ...(request.correlationId ? { correlationId: request.correlationId } : {}),
    ...(planned.delivery.userId ? { userId: planned.delivery.userId } : {}),
    ...(request.campaignId ? { campaignId: request.campaignId } : {}),
    ...(request.campaignVariant ? { campaignVariant: request.campaignVariant } : {}),
    channel: planned.delivery.key.channel,
    templateVersion: planned.template.version,
    priority: request.priority,
  };
}

function newMessage(messageId: string, plan: Plan, planned: PlannedDelivery): NewMessage {
  return {
    ...identityOf(messageId, plan, planned),
    templateId: planned.template.templateId,
    recipient: planned.delivery.destination ? addressOf(planned.delivery.destination) : "",
    status: planned.status,
    ...(planned.reason ? { statusDetails: planned.reason } : {}),
    requestedAt: plan.request.receivedAt,
  };
}

function eventBase(messageId: string, plan: Plan, planned: PlannedDelivery): DispatchJob["event"] {
  return {
    ...identityOf(messageId, plan, planned),
    templateName: planned.template.templateName,
    attempt: 0,
    acceptedAt: plan.request.receivedAt,
  };
}

function statusEvent(
  messageId: string,
  plan: Plan,
  planned: PlannedDelivery,
  status: MessageStatusEvent["status"],
  at: Date,
): MessageStatusEvent {
  const ended = status === planned.status && status !== "queued" && status !== "scheduled";
  return {
    ...eventBase(messageId, plan, planned),
    status,
    occurredAt: at,
    ...(ended && planned.reason ? { reason: planned.reason } : {}),
    ...(ended && planned.reasonDetail ? { reasonDetail: planned.reasonDetail } : {}),
  };
}

/** The parts of a dispatch job's message made with its id. */
interface Outgoing {
  bodyHtml: string;
  unsubscribeUrl?: string;
}

function dispatchJob(
  messageId: string,
  plan: Plan,
  planned: PlannedDelivery,
  outgoing: Outgoing,
): DispatchJob {
  const content = planned.content as RenderedContent;
  return {
    message: {
      messageId,
      destination: planned.delivery.destination as NonNullable<Delivery["destination"]>,
      subject: content.subject,
      body: content.body,
      bodyHtml: outgoing.bodyHtml,
      priority: plan.request.priority,
      ...(plan.expiresAt ? { expiresAt: plan.expiresAt } : {}),
      ...(outgoing.unsubscribeUrl ? { unsubscribeUrl: outgoing.unsubscribeUrl } : {}),
      ...(planned.delivery.key.channel === "in_app" ? { notificationType: plan.request.templateName } : {}),
    },
    event: eventBase(messageId, plan, planned),
  };
}
