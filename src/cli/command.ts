import { ConfigError } from '../config/settings';
import { failureLine } from '../core/failure';

/** An error class a command expects (bad usage, bad input, a refused setting): its message is written for the user. */
type ExpectedError = abstract new (...args: never[]) => Error;

export interface CommandOptions {
  /** What the command does, for the line of an unexpected failure: `<verb> failed: …`. */
  readonly verb: string;
  /**
   * The exit status when it fails. Default 1; a command whose 1 is a verdict (verify: the trail
   * was tampered with) uses 2 for "could not check".
   */
  readonly failureStatus?: number;
  /** Errors whose message is the line as it stands, besides {@link ConfigError} (usage and settings). */
  readonly expected?: readonly ExpectedError[];
}

/**
 * Runs a command's `main` and sets the exit status to what it returns (0 when nothing). A failure
 * is one line on stderr: the message of an error the command expects, else {@link failureLine},
 * which names PostgreSQL's refusal or an error code but never SQL, a parameter or a stack. Sets
 * `process.exitCode` rather than calling `exit()`, which would cut off stdout still being written
 * to a pipe.
 */
export function runCommand(main: () => Promise<number | void>, options: CommandOptions): void {
  main().then(
    (status) => {
      process.exitCode = status ?? 0;
    },
    (error: unknown) => {
      const expected = error instanceof ConfigError || (options.expected ?? []).some((type) => error instanceof type);
      process.stderr.write(`${expected ? (error as Error).message : failureLine(error, options.verb)}\n`);
      process.exitCode = options.failureStatus ?? 1;
    },
  );
}
