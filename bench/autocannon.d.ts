/**
 * The part of autocannon's programmatic API the benchmark uses. autocannon ships no types and
 * `@types/autocannon` is not a dependency; these declarations follow autocannon 9's `lib/run.js`.
 */
declare module 'autocannon' {
  namespace autocannon {
    /** One request template; `setupRequest` rebuilds it before every send. */
    interface Request {
      method?: string;
      path?: string;
      headers?: Record<string, string>;
      body?: string;
      setupRequest?: (request: Request, context: Record<string, unknown>) => Request;
    }

    interface Options {
      url: string;
      connections?: number;
      pipelining?: number;
      /** Seconds. */
      duration?: number;
      /** Seconds before a request counts as a timeout. */
      timeout?: number;
      requests?: Request[];
      /** Called with every response body, whatever its status; `false` counts a mismatch. */
      verifyBody?: (body: string) => boolean;
    }

    interface Result {
      /** Seconds actually run. */
      duration: number;
      errors: number;
      timeouts: number;
      mismatches: number;
      non2xx: number;
    }

    /** The running load: a promise of its {@link Result} that also reports each response. */
    interface Instance extends PromiseLike<Result> {
      on(event: 'response', listener: (client: unknown, statusCode: number, bytes: number, responseTimeMs: number) => void): this;
      on(event: 'reqMismatch', listener: (body: string) => void): this;
      on(event: 'reqError', listener: (error: Error) => void): this;
    }
  }

  function autocannon(options: autocannon.Options): autocannon.Instance;
  export = autocannon;
}
