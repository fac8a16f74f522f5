/**
 * RFC 3463 statuses that say the address itself is dead, not this message refused: X.1.1 no
 * such mailbox, X.1.2 no such domain, X.1.3 an address that cannot be one, X.1.6 the mailbox
 * moved without a forwarding address, X.1.10 the domain takes no mail (null MX, RFC 7505),
 * X.2.1 the mailbox is disabled. Class 5 makes it final; then the address is suppressed.
 * Other 5.x.x refuse this message for good but say nothing of the next one: a full mailbox
 * (5.2.2), a message too large (5.2.3, 5.3.4), content or policy (5.6.x, 5.7.x, spam blocks
 * among them), routing (5.4.x), or our own sender address (5.1.7, 5.1.8).
 */
const ADDRESS_GONE = new Set(["1.1", "1.2", "1.3", "1.6", "1.10", "2.1"]);

/** Whether an enhanced status code ("5.1.1") says the address itself is dead, for good. */
export function saysAddressGone(enhancedCode: string): boolean {
  const [klass, subject, detail] = enhancedCode.split(".");
  return klass === "5" && ADDRESS_GONE.has(`${subject}.${detail}`);
}
