import { Agent, type RequestOptions } from "node:https";
import type { Duplex } from "node:stream";

export interface RoutedHttpsAgentOptions {
  /** Where every connection goes, whatever host a request names. */
  host: string;
  port: number;
  /** The only certificates trusted there, in place of the system's. */
  ca: string | string[];
}

/**
 * An https.Agent whose connections all go to one address, e.g. a local peer standing in for a
 * vendor, whatever host a request names. For an SDK that cannot be told another host
 * (firebase-admin's fcm.googleapis.com and oauth2.googleapis.com, firebase-admin-node#2980): the
 * SDK still asks for its own hosts, and the certificate found at the address must be valid for
 * the host asked and signed by `ca`, as it would have to be at the vendor's.
 */
export function routedHttpsAgent(options: RoutedHttpsAgentOptions): Agent {
  if (!options.host) throw new Error("a routed agent needs the host to connect to");
  if (!(Number.isInteger(options.port) && options.port > 0 && options.port <= 65535)) {
    throw new Error(`a routed agent's port must be from 1 to 65535, got ${options.port}`);
  }
  return new RoutedAgent(options);
}

class RoutedAgent extends Agent {
  private readonly target: RoutedHttpsAgentOptions;

  constructor(target: RoutedHttpsAgentOptions) {
    super({ keepAlive: true, ca: target.ca });
    this.target = target;
  }

  override createConnection(
    options: RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    // The agent has set `servername` from the Host header: the name the certificate is checked
    // against stays the one asked for, while the socket goes to the target.
    const servername = options.servername || options.hostname || options.host || undefined;
    return super.createConnection(
      { ...options, host: this.target.host, hostname: this.target.host, port: this.target.port, servername },
      callback,
    );
  }
}
