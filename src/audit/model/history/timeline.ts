import { isDeepStrictEqual } from 'node:util';
import type { RecordedFields } from '../record-snapshot';
import type { FieldChange, Snapshot, VersionEntry } from './record-version';

/** What the trail says a record was during one stretch of time. */
export type RecordState =
  | { readonly kind: 'absent' }
  | { readonly kind: 'present'; readonly snapshot: Snapshot }
  /** The trail cannot tell: it lacks a version of the record in this stretch, or before it. */
  | { readonly kind: 'unknown' };

const ABSENT: RecordState = { kind: 'absent' };
const UNKNOWN: RecordState = { kind: 'unknown' };

/** The fields of a resource a timeline checks versions against, as its declaration gives them. */
export interface TimelineFields {
  readonly id: string;
  readonly owner: string;
  readonly recorded: RecordedFields;
}

/** The state in effect at an instant, and the version that brought it (none before the first). */
export interface StateAt {
  readonly state: RecordState;
  readonly version: VersionEntry | undefined;
}

/**
 * A record's states over time, rebuilt from its versions in the order they were made (paper_trail's
 * `reify`, from snapshots and diffs rather than whole objects). Stretch `k` is the time between
 * version `k - 1` and version `k`: stretch 0 is before the first version, the last one runs to now.
 *
 * Versions are checked against each other: an update's `from` values, a deletion's `before` and a
 * restore's against the state they apply to, and the last state against the live record. Where
 * they disagree, a change of the record was made that the trail does not hold — a SQL change no
 * trigger recorded, a row lost — somewhere between the version that last showed that field's
 * value and the one that disagrees; every stretch in between is then `unknown`, never guessed.
 * A stretch before any whole snapshot (a creation, a restore) is unknown too, unless the record
 * did not exist yet: before a first version that creates it.
 *
 * Only the fields versions keep track of are checked: the id, the owner and the diffed fields,
 * sensitive ones aside (their values are withheld). The snapshot's other fields (items'
 * `createdAt`, `updatedAt`) are as the last whole snapshot had them.
 */
export class Timeline {
  private constructor(
    private readonly replayed: Replayed,
    /** Stretches found unknown by the live record, from the first to the last. */
    private readonly unknownSinceLive: number,
  ) {}

  /**
   * Replays `versions` (in id order) of a record whose live row is `live` now (as a snapshot), or
   * that does not exist now (`undefined`).
   */
  static replay(versions: readonly VersionEntry[], fields: TimelineFields, live: Snapshot | undefined): Timeline {
    return Timeline.of(Replayed.of(versions, fields), live);
  }

  /** The timeline of versions already replayed, checked against the record's live row now. */
  static of(replayed: Replayed, live: Snapshot | undefined): Timeline {
    return new Timeline(replayed, replayed.firstStretchDisagreeingWith(live));
  }

  get versions(): readonly VersionEntry[] {
    return this.replayed.versions;
  }

  /**
   * The state in effect at `instant`: the one the last version counting from `instant` or earlier
   * brought. Versions are in the order they were made, which their instants (their transactions'
   * starts) need not follow: a change that waited for another's lock started first but came
   * second, and counts from its start with everything before it.
   */
  at(instant: Date): StateAt {
    for (let index = this.versions.length - 1; index >= 0; index--) {
      const version = this.versions[index]!;
      if (version.at.getTime() <= instant.getTime()) return { state: this.stateOf(index + 1), version };
    }
    return { state: this.stateOf(0), version: undefined };
  }

  /** The state now, as the trail and the live record agree on it. */
  get latest(): RecordState {
    return this.stateOf(this.versions.length);
  }

  private stateOf(stretch: number): RecordState {
    return stretch >= this.unknownSinceLive ? UNKNOWN : this.replayed.stateOf(stretch);
  }

  /** Who owned the record when the trail last named its owner; undefined if it never did. */
  get lastOwner(): string | undefined {
    const { owner } = this.replayed.fields;
    for (let index = this.versions.length - 1; index >= 0; index--) {
      const { change, ownerIds } = this.versions[index]!;
      const named = change.after?.[owner] ?? change.before?.[owner] ?? change.changes?.[owner]?.to ?? (ownerIds.length === 1 ? ownerIds[0] : undefined);
      if (typeof named === 'string') return named;
    }
    return undefined;
  }
}

const fromValues = (changes: Readonly<Record<string, FieldChange>> | undefined) =>
  Object.fromEntries(Object.entries(changes ?? {}).map(([field, change]) => [field, change.from]));

const toValues = (changes: Readonly<Record<string, FieldChange>>) =>
  Object.fromEntries(Object.entries(changes).map(([field, change]) => [field, change.to]));

/**
 * A record's versions replayed into its states, checked against one another but not yet against
 * its live row: immutable, so the replay of a long history is kept with its versions and reused
 * (see `VersionCache`) while only the live row is compared afresh on each read.
 */
export class Replayed {
  private constructor(
    readonly versions: readonly VersionEntry[],
    readonly fields: TimelineFields,
    /** The state of each stretch, as the versions tell it. */
    private readonly states: readonly RecordState[],
    /** Stretches found unknown, as `[first, last]` ranges. */
    private readonly unknown: readonly (readonly [number, number])[],
    /** Field → the stretch from which its value in the last state is known to hold. */
    private readonly shownSince: ReadonlyMap<string, number>,
    private readonly checked: readonly string[],
  ) {}

  /** Replays `versions`, in the order they were made. */
  static of(versions: readonly VersionEntry[], fields: TimelineFields): Replayed {
    const checked = [fields.id, fields.owner, ...fields.recorded.diffed].filter((field) => !fields.recorded.sensitive.has(field));
    const states: RecordState[] = [versions.length === 0 || versions[0]!.kind === 'create' ? ABSENT : UNKNOWN];
    return Replayed.fold({ versions: [], fields, states, unknown: [], shownSince: new Map(), checked }, versions);
  }

  /** These versions and `more`, made after them, replayed: only `more` is replayed anew. */
  extend(more: readonly VersionEntry[]): Replayed {
    if (this.versions.length === 0) return Replayed.of(more, this.fields);
    const { versions, fields, states, unknown, shownSince, checked } = this;
    return Replayed.fold({ versions: [...versions], fields, states: [...states], unknown: [...unknown], shownSince: new Map(shownSince), checked }, more);
  }

  /** Replays `more` on top of `replay` (whose arrays and map it extends), and freezes the result. */
  private static fold(replay: Fold, more: readonly VersionEntry[]): Replayed {
    const { versions, states, unknown, shownSince, checked } = replay;
    /** Marks the stretches a disagreement of `field` (or of existence, when undefined) found before `upTo` lies in. */
    const disagreement = (field: string | undefined, upTo: number) => unknown.push([field === undefined ? upTo : (shownSince.get(field) ?? upTo), upTo]);
    const checkAgainst = (current: Snapshot, expected: Readonly<Record<string, unknown>>, fieldsChecked: Iterable<string>, upTo: number) => {
      for (const field of fieldsChecked) {
        if (checked.includes(field) && !isDeepStrictEqual(current[field], expected[field])) disagreement(field, upTo);
      }
    };
    const showAll = (stretch: number) => {
      shownSince.clear();
      for (const field of checked) shownSince.set(field, stretch);
    };

    for (const version of more) {
      const index = versions.length;
      const before = states[index]!;
      const stretch = index + 1;
      const { after, changes, recreated } = version.change;
      let next: RecordState = UNKNOWN;
      switch (version.kind) {
        case 'create':
          if (before.kind === 'present') disagreement(undefined, index);
          next = after ? { kind: 'present', snapshot: after } : UNKNOWN;
          showAll(stretch);
          break;
        case 'restore':
          if (recreated ? before.kind === 'present' : before.kind === 'absent') disagreement(undefined, index);
          if (before.kind === 'present' && !recreated) checkAgainst(before.snapshot, fromValues(changes), Object.keys(changes ?? {}), index);
          next = after ? { kind: 'present', snapshot: after } : UNKNOWN;
          showAll(stretch);
          break;
        case 'update':
          if (before.kind === 'absent') disagreement(undefined, index);
          if (before.kind === 'present' && changes) {
            checkAgainst(before.snapshot, fromValues(changes), Object.keys(changes), index);
            next = { kind: 'present', snapshot: { ...before.snapshot, ...toValues(changes) } };
            for (const field of Object.keys(changes)) shownSince.set(field, stretch);
          }
          break;
        case 'delete':
          if (before.kind === 'absent') disagreement(undefined, index);
          if (before.kind === 'present' && version.change.before) checkAgainst(before.snapshot, version.change.before, checked, index);
          next = ABSENT;
          shownSince.clear();
          break;
      }
      versions.push(version);
      states.push(next);
    }
    return new Replayed(versions, replay.fields, states, unknown, shownSince, checked);
  }

  /** The state of stretch `stretch` as the versions tell it. */
  stateOf(stretch: number): RecordState {
    return this.unknown.some(([first, last]) => first <= stretch && stretch <= last) ? UNKNOWN : this.states[stretch]!;
  }

  /**
   * The first stretch the live row shows to be unknown: where a change it shows, and no version
   * holds, must lie (from the version that last showed the field, or the last one for the
   * record's existence). After the last stretch when they agree.
   */
  firstStretchDisagreeingWith(live: Snapshot | undefined): number {
    const last = this.states.length - 1;
    if (this.versions.length === 0) return live === undefined ? last + 1 : 0;
    const disagreement = this.liveDisagreement(live);
    if (disagreement === undefined) return last + 1;
    if (disagreement === 'existence') return last;
    return Math.min(...disagreement.map((field) => this.shownSince.get(field) ?? last));
  }

  /**
   * How the live row (undefined: the record does not exist) disagrees with the state the last
   * version left: in existence, or in the values of these checked fields; undefined when they
   * agree, or when the versions cannot tell what the state is.
   */
  liveDisagreement(live: Snapshot | undefined): 'existence' | readonly string[] | undefined {
    const now = this.states.at(-1)!;
    if (now.kind === 'unknown') return undefined;
    if ((live === undefined) !== (now.kind === 'absent')) return 'existence';
    if (live === undefined || now.kind !== 'present') return undefined;
    const fields = this.checked.filter((field) => !isDeepStrictEqual(now.snapshot[field], live[field]));
    return fields.length > 0 ? fields : undefined;
  }

  /** Whether the versions disagree with one another: a change between two of them is not in the trail. */
  get disagree(): boolean {
    return this.unknown.length > 0;
  }
}

/** A replay under way: what {@link Replayed} holds, still growing. */
interface Fold {
  readonly versions: VersionEntry[];
  readonly fields: TimelineFields;
  readonly states: RecordState[];
  readonly unknown: (readonly [number, number])[];
  readonly shownSince: Map<string, number>;
  readonly checked: readonly string[];
}
