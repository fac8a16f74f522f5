/** How far one send request got: whether it still waits, and its messages by status. */
export interface SendProgress {
  requestId: string;
  /** "direct": it never waited; the others are the states of a kept request. */
  state: "waiting" | "released" | "cancelled" | "direct";
  messages: number;
  byStatus: Record<string, number>;
  dueAt?: Date;
}

export interface SendProgressQueries {
  /** Undefined when no request with this id was ever accepted. */
  progress(requestId: string): Promise<SendProgress | undefined>;
}
