/**
 * What OCSF 1.1.0 asks of an "API Activity" event (class 6003), written out as data from the schema
 * itself (github.com/ocsf/ocsf-schema, tag v1.1.0), apart from the exporter so that a mapping that
 * drops a required attribute fails here rather than in a SIEM's ingestion:
 *
 * - required event attributes: `events/application/api.json` (actor, api, src_endpoint) on top of
 *   `events/base_event.json` (metadata, severity_id), `includes/classification.json` (activity_id,
 *   category_uid, class_uid, type_uid) and `includes/occurrence.json` (time);
 * - required object attributes and `at_least_one` constraints: `objects/*.json` (an object that sets
 *   no constraint of its own keeps its parent's, e.g. `product` that of `_entity`);
 * - enum ids and their captions: `dictionary.json`, the classification include, `api.json` and
 *   `objects/user.json`.
 *
 * Attributes outside these rules are not checked, nor is anything under `unmapped` (free-form).
 */

/** An object attribute, or `[name]` for an array of such objects. */
type ObjectType = string | readonly [string];

/** An enum attribute: its ids with their captions, and the string attribute that names the id. */
interface EnumRule {
  readonly caption: string;
  readonly values: Readonly<Record<number, string>>;
}

interface ObjectRule {
  readonly required?: readonly string[];
  readonly atLeastOne?: readonly string[];
  readonly objects?: Readonly<Record<string, ObjectType>>;
  readonly enums?: Readonly<Record<string, EnumRule>>;
}

/** The event class, by its name in the schema, then every object it reaches. */
const RULES: Readonly<Record<string, ObjectRule>> = {
  api_activity: {
    required: ['activity_id', 'category_uid', 'class_uid', 'type_uid', 'time', 'severity_id', 'metadata', 'actor', 'api', 'src_endpoint'],
    objects: {
      actor: 'actor',
      api: 'api',
      src_endpoint: 'network_endpoint',
      metadata: 'metadata',
      resources: ['resource_details'],
      http_request: 'http_request',
    },
    enums: {
      class_uid: { caption: 'class_name', values: { 6003: 'API Activity' } },
      category_uid: { caption: 'category_name', values: { 6: 'Application Activity' } },
      activity_id: { caption: 'activity_name', values: { 0: 'Unknown', 1: 'Create', 2: 'Read', 3: 'Update', 4: 'Delete', 99: 'Other' } },
      severity_id: {
        caption: 'severity',
        values: { 0: 'Unknown', 1: 'Informational', 2: 'Low', 3: 'Medium', 4: 'High', 5: 'Critical', 6: 'Fatal', 99: 'Other' },
      },
      status_id: { caption: 'status', values: { 0: 'Unknown', 1: 'Success', 2: 'Failure', 99: 'Other' } },
    },
  },
  actor: { atLeastOne: ['process', 'user', 'invoked_by', 'session'], objects: { user: 'user' } },
  user: {
    atLeastOne: ['account', 'name', 'uid'],
    enums: { type_id: { caption: 'type', values: { 0: 'Unknown', 1: 'User', 2: 'Admin', 3: 'System', 99: 'Other' } } },
  },
  api: { required: ['operation'], objects: { request: 'request' } },
  request: { required: ['uid'] },
  network_endpoint: { atLeastOne: ['ip', 'uid', 'name', 'hostname', 'svc_name', 'instance_uid', 'interface_uid', 'interface_name'] },
  metadata: { required: ['product', 'version'], objects: { product: 'product' } },
  product: { required: ['vendor_name'], atLeastOne: ['name', 'uid'] },
  resource_details: { atLeastOne: ['name', 'uid'], objects: { owner: 'user' } },
  http_request: {},
};

/** An id other than 99 ("Other") must be named by its caption; with 99 the name is the source's own. */
const OTHER = 99;

/**
 * What is wrong with `event` as an OCSF 1.1 API Activity event, one line per problem (`at path:
 * problem`); empty when nothing is. OCSF's types (string_t, integer_t, objects) have no `null`: a
 * required attribute that is `null` is missing, and an unknown optional one is left out.
 */
export function ocsfApiActivityViolations(event: unknown): string[] {
  const problems = objectViolations(event, 'api_activity', 'event');
  if (problems.length > 0) return problems;
  const { class_uid, activity_id, type_uid, time, metadata } = event as Record<string, any>;
  // classification.json: type_uid is class_uid * 100 + activity_id.
  if (type_uid !== class_uid * 100 + activity_id) problems.push(`at event.type_uid: ${type_uid} is not class_uid * 100 + activity_id`);
  // timestamp_t: milliseconds since the epoch, an integer.
  if (!Number.isInteger(time)) problems.push(`at event.time: ${JSON.stringify(time)} is not epoch milliseconds`);
  if (typeof metadata.version !== 'string' || !metadata.version.startsWith('1.1.')) {
    problems.push(`at event.metadata.version: ${JSON.stringify(metadata.version)} is not an OCSF 1.1 version`);
  }
  return problems;
}

function objectViolations(value: unknown, type: string, path: string): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`at ${path}: not a ${type} object`];
  const object = value as Record<string, unknown>;
  const rule = RULES[type]!;
  const present = (name: string) => object[name] !== undefined && object[name] !== null;
  const problems: string[] = [];
  for (const [name, attribute] of Object.entries(object)) {
    if (attribute === null && name !== 'unmapped') problems.push(`at ${path}.${name}: null (leave an unknown attribute out)`);
  }
  for (const name of rule.required ?? []) if (!present(name)) problems.push(`at ${path}: ${type} requires ${name}`);
  if (rule.atLeastOne && !rule.atLeastOne.some(present)) problems.push(`at ${path}: ${type} needs at least one of ${rule.atLeastOne.join(', ')}`);
  for (const [name, enumRule] of Object.entries(rule.enums ?? {})) {
    if (present(name)) problems.push(...enumViolations(object, name, enumRule, path));
  }
  for (const [name, objectType] of Object.entries(rule.objects ?? {})) {
    if (present(name)) problems.push(...nestedViolations(object[name], objectType, `${path}.${name}`));
  }
  return problems;
}

function nestedViolations(value: unknown, type: ObjectType, path: string): string[] {
  if (typeof type === 'string') return objectViolations(value, type, path);
  if (!Array.isArray(value)) return [`at ${path}: not an array of ${type[0]}`];
  return value.flatMap((item, index) => objectViolations(item, type[0], `${path}[${index}]`));
}

function enumViolations(object: Record<string, unknown>, name: string, rule: EnumRule, path: string): string[] {
  const id = object[name];
  const caption = typeof id === 'number' ? rule.values[id] : undefined;
  if (caption === undefined) return [`at ${path}.${name}: ${JSON.stringify(id)} is not one of ${Object.keys(rule.values).join(', ')}`];
  const named = object[rule.caption];
  if (id !== OTHER && named !== undefined && named !== caption) {
    return [`at ${path}.${rule.caption}: ${JSON.stringify(named)} does not name ${name} ${id} (${caption})`];
  }
  return [];
}
