/** A `/metrics` answer as a Prometheus server would receive it. */
export interface Scrape {
  readonly status: number;
  readonly contentType: string | null;
  readonly text: string;
}

/** GETs `${baseUrl}/metrics`, as a scraper does, with `token` as its bearer token when given. */
export async function scrape(baseUrl: string, token?: string): Promise<Scrape> {
  const response = await fetch(`${baseUrl}/metrics`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  return { status: response.status, contentType: response.headers.get('content-type'), text: await response.text() };
}

/**
 * The value of the sample `name` whose labels are exactly `labels`, from Prometheus's text
 * format; `undefined` when there is none.
 */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (sameLabels(found, labels)) return Number(match[3]);
  }
  return undefined;
}

/** Every label set of `name`'s samples, e.g. to see which operations a histogram has seen. */
export function labelSets(text: string, name: string): Record<string, string>[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`))
    .map((line) => Object.fromEntries([...line.slice(name.length + 1, line.lastIndexOf('}')).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!])));
}

function sameLabels(a: Record<string, string | undefined>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}
