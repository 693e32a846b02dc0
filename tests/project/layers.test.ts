import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/*
 * `src/` reads as its architecture: each folder is a layer, and imports point one way, from a
 * higher layer to a lower one. Features (same rank) do not import each other, and nothing outside
 * `src/audit/` reaches past its doors (`index`, `wiring`, `operations`), each for its own users.
 */

const SRC = path.resolve(__dirname, '../../src');

/** Higher imports lower; equal ranks only within one folder. */
const RANK: Record<string, number> = {
  core: 0,
  // Configuration may use the core's ideas (how a failure may be described), not the reverse.
  config: 0.5,
  db: 1,
  auth: 1,
  audit: 2,
  api: 3,
  items: 4,
  'audit-logs': 4,
  viewer: 4,
  graphql: 5,
  metrics: 5,
  // The request pipeline every door goes through; the doors are above it.
  pipeline: 6,
  http: 7,
  cli: 8,
  'server.ts': 8,
  'main.ts': 9,
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(path.join(dir, entry.name)) : entry.name.endsWith('.ts') ? [path.join(dir, entry.name)] : [],
  );
}

/** The folder (or root file) a path in `src/` belongs to; an import of `./server` is `server.ts`. */
function layerOf(file: string): string {
  const top = path.relative(SRC, file).split(path.sep)[0]!;
  return top in RANK ? top : `${top}.ts`;
}

function importsOf(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  return [...source.matchAll(/^(?:import|export)\b[^;]*?from '(\.[^']+)'/gms)].map((match) => path.resolve(path.dirname(file), match[1]!));
}

const edges = sourceFiles(SRC).flatMap((file) => importsOf(file).map((target) => ({ file, target })));

it('finds the imports it checks', () => {
  expect(edges.length).toBeGreaterThan(50);
  for (const { file, target } of edges) {
    expect(RANK).toHaveProperty([layerOf(file)]);
    expect(RANK).toHaveProperty([layerOf(target)]);
  }
});

it('has every import point from a higher layer to a lower one (or within its own folder)', () => {
  const upward = edges
    .filter(({ file, target }) => {
      const from = layerOf(file);
      const to = layerOf(target);
      return from !== to && RANK[from]! <= RANK[to]!;
    })
    .map(({ file, target }) => `${path.relative(SRC, file)} -> ${path.relative(SRC, target)}`);
  expect(upward).toEqual([]);
});

/**
 * The doors of `src/audit/` and who may use each: features declare what is audited (`index`), the
 * server and the layers that carry requests wire the trail in (`wiring`), and the tools that read,
 * check and keep the trail use `operations`. Nothing else of `src/audit/` is imported from outside.
 */
const AUDIT_DOORS: Record<string, readonly ('index' | 'wiring' | 'operations')[]> = {
  api: ['index'],
  items: ['index'],
  viewer: ['index'],
  'audit-logs': ['index', 'operations'],
  graphql: ['index', 'wiring'],
  metrics: ['wiring'],
  pipeline: ['index', 'wiring'],
  http: ['index', 'wiring'],
  'server.ts': ['wiring'],
  cli: ['wiring', 'operations'],
};

it('lets each folder outside src/audit/ use only its doors into it', () => {
  const strays = edges
    .filter(({ file, target }) => layerOf(file) !== 'audit' && layerOf(target) === 'audit')
    .filter(({ file, target }) => {
      const door = path.relative(path.join(SRC, 'audit'), target).replace(/\.ts$/, '');
      const allowed: readonly string[] = AUDIT_DOORS[layerOf(file)] ?? [];
      return !allowed.includes(door === '' ? 'index' : door);
    })
    .map(({ file, target }) => `${path.relative(SRC, file)} -> ${path.relative(SRC, target)}`);
  expect(strays).toEqual([]);
  // The check sees the doors' imports: each is used, by the folders it is meant for.
  const used = new Set(edges.filter(({ file, target }) => layerOf(file) !== 'audit' && layerOf(target) === 'audit').map(({ target }) => path.basename(target)));
  expect([...used].sort()).toEqual(['audit', 'operations', 'wiring']);
});

it('keeps the features\' door small: src/audit/index.ts exports at most 15 names', () => {
  const source = readFileSync(path.join(SRC, 'audit/index.ts'), 'utf8');
  const names = [...source.matchAll(/^export\s+(?:type\s+)?\{([^}]*)\}/gm)].flatMap((match) => match[1]!.split(',').filter((name) => name.trim()));
  expect(names.length).toBeGreaterThan(5);
  expect(names.length).toBeLessThanOrEqual(15);
});

it('has no import cycles: every module can be read before the ones that use it', () => {
  const importsOfFile = new Map<string, string[]>();
  for (const { file, target } of edges) {
    const resolved = [`${target}.ts`, path.join(target, 'index.ts')].find((candidate) => sourceFiles(SRC).includes(candidate));
    if (resolved) importsOfFile.set(file, [...(importsOfFile.get(file) ?? []), resolved]);
  }
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (file: string, trail: string[]) => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'open') {
      cycles.push([...trail.slice(trail.indexOf(file)), file].map((step) => path.relative(SRC, step)).join(' -> '));
      return;
    }
    state.set(file, 'open');
    for (const next of importsOfFile.get(file) ?? []) visit(next, [...trail, file]);
    state.set(file, 'done');
  };
  for (const file of sourceFiles(SRC)) visit(file, []);
  expect(cycles).toEqual([]);
});
