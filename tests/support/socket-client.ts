import WebSocket from 'ws';

/** A message of the graphql-ws protocol as the server sends it. */
export interface ServerMessage {
  type: string;
  id?: string;
  payload?: any;
}

/**
 * A graphql-ws client at the level of its messages, for what a well-behaved client never sends:
 * oversized or malformed messages, odd `connectionParams`, floods of subscriptions.
 */
export class SocketClient {
  readonly messages: ServerMessage[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => this.messages.push(JSON.parse(String(data)) as ServerMessage));
    this.closed = new Promise((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
    socket.on('error', () => {}); // a refused socket also reports an error; `closed` tells what happened
  }

  /** Opens a socket to `httpUrl`'s `/graphql`; sends `connection_init` with `connectionParams` unless that is `undefined`. */
  static async open(httpUrl: string, connectionParams?: Record<string, unknown>): Promise<SocketClient> {
    const socket = new WebSocket(`${httpUrl.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    const client = new SocketClient(socket);
    await new Promise<void>((resolve, reject) => socket.once('open', () => resolve()).once('error', reject));
    if (connectionParams !== undefined) client.send({ type: 'connection_init', payload: connectionParams });
    return client;
  }

  /** Resolves once acknowledged; rejects if the server closes the socket instead. */
  async acknowledged(): Promise<void> {
    await this.until((messages) => messages.some((message) => message.type === 'connection_ack'), 'connection_ack');
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  subscribe(id: string, query: string, variables?: Record<string, unknown>): void {
    this.send({ id, type: 'subscribe', payload: { query, variables } });
  }

  /** What the server answered subscription `id` so far. */
  answers(id: string): ServerMessage[] {
    return this.messages.filter((message) => message.id === id);
  }

  /** Waits until `condition` holds for the messages received; fails if the socket closes first or after `timeoutMs`. */
  async until(condition: (messages: ServerMessage[]) => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let closed: { code: number } | undefined;
    void this.closed.then((event) => (closed = event));
    while (!condition(this.messages)) {
      if (closed) throw new Error(`closed (${closed.code}) before ${what}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  close(): void {
    this.socket.close();
  }
}
