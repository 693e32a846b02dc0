import { versionEntryOf, type VersionChange, type VersionEntry, type VersionKind } from '../../src/audit/model/history/record-version';
import fc from 'fast-check';
import { Replayed, Timeline, type RecordState } from '../../src/audit/model/history/timeline';
import { WITHHELD } from '../../src/audit/model/record-snapshot';

/*
 * The rebuild, in process: a record's versions replayed into its states over time, each checked
 * against the state it applies to and the last against the live record. No database: versions are
 * written here as the trail's rows would carry them.
 */

const FIELDS = {
  id: 'id',
  owner: 'ownerId',
  recorded: { snapshot: ['id', 'ownerId', 'title', 'pin', 'createdAt'], diffed: ['title', 'pin'], sensitive: new Set(['pin']) },
};

let nextId = 0n;
/** A version at second `at` of the epoch (ids in the order written). */
const version = (kind: VersionKind, at: number, change: VersionChange, ownerIds = ['alice']): VersionEntry => ({
  id: ++nextId,
  at: new Date(at * 1000),
  action: `${kind}_thing`,
  kind,
  userId: 'alice',
  source: 'API',
  databaseRole: null,
  changedFields: [],
  change,
  ownerIds,
});
const thing = (title: string, ownerId = 'alice') => ({ id: '1', ownerId, title, pin: WITHHELD, createdAt: '2026-01-01T00:00:00.000Z' });
const create = (at: number, title: string) => version('create', at, { after: thing(title) });
const update = (at: number, from: string, to: string) => version('update', at, { changes: { title: { from, to } } });
const remove = (at: number, title: string) => version('delete', at, { before: thing(title) });

const present = (title: string, ownerId = 'alice'): RecordState => ({ kind: 'present', snapshot: thing(title, ownerId) });
const ABSENT: RecordState = { kind: 'absent' };
const UNKNOWN: RecordState = { kind: 'unknown' };
/** The state at each of `seconds`. */
const statesAt = (timeline: Timeline, seconds: number[]) => seconds.map((second) => timeline.at(new Date(second * 1000)).state);

describe('a record whose every change is in the trail', () => {
  const versions = [create(10, 'a'), update(20, 'a', 'b'), remove(30, 'b')];
  const timeline = Timeline.replay(versions, FIELDS, undefined);

  it('did not exist before its creation, has each version’s state from its instant on, and none after its deletion', () => {
    expect(statesAt(timeline, [9, 10, 19, 20, 29, 30, 99])).toEqual([ABSENT, present('a'), present('a'), present('b'), present('b'), ABSENT, ABSENT]);
  });

  it('names the version in effect, none before the first', () => {
    expect(timeline.at(new Date(25_000)).version).toBe(versions[1]);
    expect(timeline.at(new Date(5_000)).version).toBeUndefined();
  });

  it('keeps its last owner after its deletion', () => {
    expect(timeline.lastOwner).toBe('alice');
  });

  it('comes back with a recreating restore', () => {
    const restored = Timeline.replay([...versions, version('restore', 40, { recreated: true, after: thing('a') })], FIELDS, thing('a'));
    expect(statesAt(restored, [35, 40])).toEqual([ABSENT, present('a')]);
  });
});

describe('a record with a gap in its trail', () => {
  it('is unknown until a whole snapshot when its creation is missing', () => {
    const timeline = Timeline.replay([update(20, 'a', 'b'), update(30, 'b', 'c')], FIELDS, thing('c'));
    expect(statesAt(timeline, [10, 20, 30])).toEqual([UNKNOWN, UNKNOWN, UNKNOWN]);
  });

  it('is unknown throughout when the record exists and the trail holds nothing of it', () => {
    expect(statesAt(Timeline.replay([], FIELDS, thing('a')), [0])).toEqual([UNKNOWN]);
    expect(statesAt(Timeline.replay([], FIELDS, undefined), [0])).toEqual([ABSENT]);
  });

  it('is unknown from the version that last showed a field to the one that disagrees with it', () => {
    // Unrecorded: the title went from b to x somewhere between 20 and 40.
    const timeline = Timeline.replay([create(10, 'a'), update(20, 'a', 'b'), version('update', 30, { changes: {} }), update(40, 'x', 'y')], FIELDS, thing('y'));
    expect(statesAt(timeline, [10, 20, 30, 40])).toEqual([present('a'), UNKNOWN, UNKNOWN, present('y')]);
  });

  it('is unknown since the last version when the live record disagrees with the trail', () => {
    const timeline = Timeline.replay([create(10, 'a'), update(20, 'a', 'b')], FIELDS, thing('changed unseen'));
    expect(statesAt(timeline, [10, 20])).toEqual([present('a'), UNKNOWN]);
    expect(timeline.latest).toEqual(UNKNOWN);
  });

  it('is unknown before a deletion whose record differs from the state rebuilt', () => {
    const timeline = Timeline.replay([create(10, 'a'), remove(20, 'b')], FIELDS, undefined);
    expect(statesAt(timeline, [10, 20])).toEqual([UNKNOWN, ABSENT]);
  });

  it('is unknown in the stretch where an unrecorded deletion or insertion must lie', () => {
    const deletedUnseen = Timeline.replay([create(10, 'a')], FIELDS, undefined);
    expect(statesAt(deletedUnseen, [10])).toEqual([UNKNOWN]);
    const insertedUnseen = Timeline.replay([create(10, 'a'), remove(20, 'a'), update(30, 'a', 'b')], FIELDS, thing('b'));
    expect(statesAt(insertedUnseen, [10, 20, 30])).toEqual([present('a'), UNKNOWN, UNKNOWN]);
    const deletedThenCreated = Timeline.replay([create(10, 'a'), create(20, 'b')], FIELDS, thing('b'));
    expect(statesAt(deletedThenCreated, [10, 20])).toEqual([UNKNOWN, present('b')]);
  });

  it('leaves withheld values out of the checks: they are the same withheld string whatever they were', () => {
    const timeline = Timeline.replay([create(10, 'a'), version('update', 20, { changes: { pin: { from: WITHHELD, to: WITHHELD } } })], FIELDS, { ...thing('a'), pin: '1234' });
    expect(statesAt(timeline, [10, 20])).toEqual([present('a'), present('a')]);
  });

  it('checks a restore of a live record against it', () => {
    const restore = version('restore', 30, { recreated: false, changes: { title: { from: 'b', to: 'a' } }, after: thing('a') });
    expect(statesAt(Timeline.replay([create(10, 'a'), update(20, 'a', 'b'), restore], FIELDS, thing('a')), [20, 30])).toEqual([present('b'), present('a')]);
    const mismatched = version('restore', 30, { recreated: false, changes: { title: { from: 'x', to: 'a' } }, after: thing('a') });
    expect(statesAt(Timeline.replay([create(10, 'a'), update(20, 'a', 'b'), mismatched], FIELDS, thing('a')), [20, 30])).toEqual([UNKNOWN, present('a')]);
  });
});

describe('versions whose transactions started out of order', () => {
  it('counts each from its start, with every change made before it', () => {
    // The second change waited for the first's lock: it started at 15, before the first (at 20).
    const timeline = Timeline.replay([create(10, 'a'), update(20, 'a', 'b'), update(15, 'b', 'c')], FIELDS, thing('c'));
    expect(statesAt(timeline, [12, 15, 20])).toEqual([present('a'), present('c'), present('c')]);
  });
});

describe('a row of the trail as a version', () => {
  const row = { id: '7', occurredAt: new Date(0), action: 'update_thing', userId: null, ownerIds: ['alice', 'bob'] };
  const kindOf = (action: string) => (action === 'update_thing' ? ('update' as const) : undefined);

  it('reads a database change: its source, role and the fields it changed, in the snapshot’s order', () => {
    const change = { changes: { title: { from: 'a', to: 'b' }, ownerId: { from: 'alice', to: 'bob' } } };
    expect(versionEntryOf({ ...row, change, database: { role: 'app_owner', applicationName: 'psql', backendPid: 42 } }, kindOf, FIELDS.recorded.snapshot)).toEqual({
      id: 7n,
      at: new Date(0),
      action: 'update_thing',
      kind: 'update',
      userId: null,
      source: 'DATABASE',
      databaseRole: 'app_owner',
      changedFields: ['ownerId', 'title'],
      change,
      ownerIds: ['alice', 'bob'],
    });
  });

  it('refuses a row of another action', () => {
    expect(() => versionEntryOf({ ...row, action: 'view_thing', change: {}, database: null }, kindOf, [])).toThrow('view_thing is not a change of this resource');
  });

  it('takes an owner change recorded in the database as the record’s last owner', () => {
    const timeline = Timeline.replay(
      [create(10, 'a'), version('update', 20, { changes: { ownerId: { from: 'alice', to: 'bob' } } }, ['alice', 'bob'])],
      FIELDS,
      thing('a', 'bob'),
    );
    expect(timeline.lastOwner).toBe('bob');
    expect(statesAt(timeline, [20])).toEqual([present('a', 'bob')]);
  });
});

describe('a kept replay extended with the versions written since', () => {
  // Titles from a small set, so that versions often agree with the state they apply to and often not.
  const title = fc.constantFrom('a', 'b', 'c');
  const anyVersion: fc.Arbitrary<VersionEntry> = fc.oneof(
    title.map((to) => create(0, to)),
    fc.tuple(title, title).map(([from, to]) => update(0, from, to)),
    title.map((was) => remove(0, was)),
    fc.tuple(title, fc.boolean()).map(([to, recreated]) => version('restore', 0, { recreated, after: thing(to), changes: { title: { from: 'a', to } } })),
  );

  it('tells every stretch exactly as replaying them all at once', () => {
    fc.assert(
      fc.property(fc.array(anyVersion, { maxLength: 12 }), fc.nat(), fc.option(title, { nil: undefined }), (versions, cut, liveTitle) => {
        const at = cut % (versions.length + 1);
        const whole = Replayed.of(versions, FIELDS);
        const extended = Replayed.of(versions.slice(0, at), FIELDS).extend(versions.slice(at));
        const oneByOne = versions.reduce((replayed, next) => replayed.extend([next]), Replayed.of([], FIELDS));
        const live = liveTitle === undefined ? undefined : thing(liveTitle);
        for (const other of [extended, oneByOne]) {
          expect(other.versions).toEqual(whole.versions);
          expect(versions.map((_, index) => other.stateOf(index + 1))).toEqual(versions.map((_, index) => whole.stateOf(index + 1)));
          expect(other.stateOf(0)).toEqual(whole.stateOf(0));
          expect(other.firstStretchDisagreeingWith(live)).toBe(whole.firstStretchDisagreeingWith(live));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('leaves the replay it extends as it was', () => {
    const kept = Replayed.of([create(10, 'a')], FIELDS);
    kept.extend([update(20, 'b', 'c')]);
    expect([kept.versions.length, kept.stateOf(1), kept.firstStretchDisagreeingWith(thing('a'))]).toEqual([1, present('a'), 2]);
  });
});
