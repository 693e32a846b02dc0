import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import {
  buildSchema,
  isObjectType,
  Kind,
  parse,
  print,
  validate,
  type FieldDefinitionNode,
  type GraphQLSchema,
  type InputValueDefinitionNode,
} from 'graphql';

/*
 * The documents keep to what the code does: every GraphQL example validates against the committed
 * schema, every relative link and heading anchor resolves, the README stays a front door of at
 * most 250 lines, and no document names an issue number (its readers cannot see the tracker).
 */

const ROOT = path.resolve(__dirname, '../..');
const DOCUMENTS = [
  'README.md',
  'CONTRIBUTING.md',
  ...readdirSync(path.join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`),
];
const text = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
const schema = buildSchema(text('schema.graphql'));

interface CodeBlock {
  readonly file: string;
  readonly line: number;
  readonly info: string;
  readonly code: string;
}

/** The fenced code blocks of a markdown document, with their info strings (` ```graphql sdl `). */
function codeBlocks(file: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  let open: { line: number; info: string; fence: string; lines: string[] } | undefined;
  text(file)
    .split('\n')
    .forEach((line, index) => {
      const fence = /^(`{3,}|~{3,})(.*)$/.exec(line);
      if (!open) {
        if (fence) open = { line: index + 1, info: fence[2]!.trim(), fence: fence[1]!, lines: [] };
      } else if (fence && fence[1]!.startsWith(open.fence) && fence[2]!.trim() === '') {
        blocks.push({ file, line: open.line, info: open.info, code: open.lines.join('\n') });
        open = undefined;
      } else {
        open.lines.push(line);
      }
    });
  return blocks;
}

/** The document's lines with fenced code blanked (line numbers kept): what headings and links live in. */
function prose(file: string): string[] {
  let fence: string | undefined;
  return text(file)
    .split('\n')
    .map((line) => {
      const marker = /^(`{3,}|~{3,})/.exec(line)?.[1];
      if (marker && (fence === undefined || marker.startsWith(fence))) {
        fence = fence === undefined ? marker : undefined;
        return '';
      }
      return fence === undefined ? line : '';
    });
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens; repeats get -1, -2, … */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

function anchorsOf(file: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const line of prose(file)) {
    const heading = /^#{1,6} (.*)$/.exec(line);
    if (!heading) continue;
    const anchor = anchorOf(heading[1]!);
    const count = seen.get(anchor) ?? 0;
    seen.set(anchor, count + 1);
    anchors.add(count === 0 ? anchor : `${anchor}-${count}`);
  }
  return anchors;
}

interface Link {
  readonly file: string;
  readonly line: number;
  readonly target: string;
}

/** Every markdown link and image outside code: `[label](target)`, `![alt](target)`. */
function linksOf(file: string): Link[] {
  return prose(file).flatMap((line, index) =>
    [...line.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((match) => ({ file, line: index + 1, target: match[1]! })),
  );
}

/** Why a relative link does not resolve, or undefined when it does. */
function brokenLink({ file, target }: Link): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return undefined;
  const hash = target.indexOf('#');
  const filePart = hash < 0 ? target : target.slice(0, hash);
  const anchor = hash < 0 ? undefined : target.slice(hash + 1);
  const resolved = filePart === '' ? file : path.normalize(path.join(path.dirname(file), filePart));
  if (!existsSync(path.join(ROOT, resolved))) return `${resolved} does not exist`;
  if (anchor !== undefined && resolved.endsWith('.md') && !anchorsOf(resolved).has(anchor)) return `${resolved} has no heading #${anchor}`;
  return undefined;
}

const where = (block: { file: string; line: number }) => `${block.file}:${block.line}`;

/** `name(args): Type` of a field definition as SDL writes it, descriptions left out. */
function signature(field: FieldDefinitionNode): string {
  const argument = (arg: InputValueDefinitionNode) => `${arg.name.value}: ${print(arg.type)}${arg.defaultValue ? ` = ${print(arg.defaultValue)}` : ''}`;
  const args = field.arguments?.length ? `(${field.arguments.map(argument).join(', ')})` : '';
  return `${field.name.value}${args}: ${print(field.type)}`;
}

/** Differences between an SDL excerpt and the schema: each field it declares must be the schema's. */
function sdlDifferences(code: string, against: GraphQLSchema): string[] {
  const problems: string[] = [];
  for (const definition of parse(code).definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.OBJECT_TYPE_EXTENSION) {
      problems.push(`${definition.kind} is not checked: declare object types only`);
      continue;
    }
    const type = against.getType(definition.name.value);
    if (!isObjectType(type)) {
      problems.push(`the schema has no object type ${definition.name.value}`);
      continue;
    }
    for (const field of definition.fields ?? []) {
      const actual = type.getFields()[field.name.value]?.astNode;
      if (!actual) problems.push(`${type.name}.${field.name.value} is not in the schema`);
      else if (signature(field) !== signature(actual)) problems.push(`${type.name}: documented ${signature(field)}, but the schema has ${signature(actual)}`);
    }
  }
  return problems;
}

const blocks = DOCUMENTS.flatMap(codeBlocks);
const operations = blocks.filter((block) => block.info === 'graphql');
const excerpts = blocks.filter((block) => block.info === 'graphql sdl');

describe('the documents', () => {
  it('are found, with their GraphQL examples', () => {
    expect(DOCUMENTS).toEqual(expect.arrayContaining(['README.md', 'CONTRIBUTING.md', 'docs/api.md', 'docs/audit-trail.md']));
    expect(operations.length).toBeGreaterThanOrEqual(3);
    expect(excerpts.length).toBeGreaterThanOrEqual(1);
  });

  it('fence GraphQL only as ```graphql (operations) or ```graphql sdl (schema excerpts)', () => {
    const others = blocks.filter((block) => /^graphql\b/i.test(block.info) && block.info !== 'graphql' && block.info !== 'graphql sdl');
    expect(others.map(where)).toEqual([]);
  });

  it.each(operations.map((block) => [where(block), block] as const))('%s: the GraphQL example validates against schema.graphql', (_, block) => {
    const errors = validate(schema, parse(block.code)).map((error) => error.message);
    expect(errors).toEqual([]);
  });

  it.each(excerpts.map((block) => [where(block), block] as const))('%s: the schema excerpt declares its fields as schema.graphql does', (_, block) => {
    expect(sdlDifferences(block.code, schema)).toEqual([]);
  });

  it('README.md stays a front door: at most 250 lines, with how to start the server and run the tests', () => {
    const readme = text('README.md');
    expect(readme.split('\n').length - (readme.endsWith('\n') ? 1 : 0)).toBeLessThanOrEqual(250);
    expect(readme).toContain('npm start');
    expect(readme).toContain('npm test');
  });

  it('link only to files and headings that exist', () => {
    const links = DOCUMENTS.flatMap(linksOf);
    expect(links.length).toBeGreaterThan(20);
    const broken = links.flatMap((link) => {
      const problem = brokenLink(link);
      return problem ? [`${where(link)}: (${link.target}): ${problem}`] : [];
    });
    expect(broken).toEqual([]);
  });

  it('name no issue numbers, which their readers cannot see', () => {
    const named = DOCUMENTS.flatMap((file) =>
      text(file)
        .split('\n')
        .flatMap((line, index) => (/\bissues? #?\d+/i.test(line) ? [`${file}:${index + 1}: ${line.trim()}`] : [])),
    );
    expect(named).toEqual([]);
  });
});

describe('the checks themselves', () => {
  it("compute GitHub's heading anchors", () => {
    expect(anchorOf('Integrity (tamper evidence)')).toBe('integrity-tamper-evidence');
    expect(anchorOf('Dashboards: counts (`auditStats`) and actions (`auditActions`)')).toBe('dashboards-counts-auditstats-and-actions-auditactions');
    expect(anchorOf('Every door, one pipeline')).toBe('every-door-one-pipeline');
  });

  it('tell a schema excerpt that differs from the schema', () => {
    expect(sdlDifferences('type Query { me: Viewer! }', schema)).toEqual([]);
    expect(sdlDifferences('type Query { me: Viewer }', schema)).toEqual(['Query: documented me: Viewer, but the schema has me: Viewer!']);
    expect(sdlDifferences('type Query { you: Viewer! }', schema)).toEqual(['Query.you is not in the schema']);
  });
});
