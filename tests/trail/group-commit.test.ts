import { GroupCommit } from '../../src/audit/storage/group-commit';

/*
 * In process: how the group commit batches rows. Its effect on the database is covered by every
 * HTTP suite (each request's rows go through it); here, what concurrency does to the batches.
 */

/** An INSERT that completes when the test says so, recording each batch it was given. */
function controllableInsert() {
  const batches: string[][] = [];
  const pending: { resolve: () => void; reject: (error: Error) => void }[] = [];
  const insert = (rows: readonly string[]) => {
    batches.push([...rows]);
    return new Promise<void>((resolve, reject) => pending.push({ resolve, reject }));
  };
  const settleNext = async (error?: Error) => {
    while (pending.length === 0) await new Promise((resolve) => setImmediate(resolve));
    const next = pending.shift()!;
    if (error) next.reject(error);
    else next.resolve();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { batches, insert, settleNext };
}

it('writes the first rows at once, and everything that arrives meanwhile together in the next INSERT', async () => {
  const { batches, insert, settleNext } = controllableInsert();
  const commit = new GroupCommit(insert);
  const first = commit.write(['a']);
  const later = [commit.write(['b']), commit.write(['c', 'd']), commit.write(['e'])];
  expect(batches).toEqual([['a']]);

  await settleNext();
  await expect(first).resolves.toBeUndefined();
  expect(batches).toEqual([['a'], ['b', 'c', 'd', 'e']]);

  await settleNext();
  await expect(Promise.all(later)).resolves.toEqual([undefined, undefined, undefined]);
});

it('fails every request of a failed batch, and goes on with the next', async () => {
  const { batches, insert, settleNext } = controllableInsert();
  const commit = new GroupCommit(insert);
  const first = commit.write(['a']);
  const failing = [commit.write(['b']), commit.write(['c'])];

  await settleNext();
  await first;
  const afterFailure = commit.write(['d']);
  await settleNext(new Error('insert refused'));
  for (const write of failing) await expect(write).rejects.toThrow('insert refused');

  await settleNext();
  await expect(afterFailure).resolves.toBeUndefined();
  expect(batches).toEqual([['a'], ['b', 'c'], ['d']]);
});

it('resolves at once when there is nothing to write', async () => {
  const { batches, insert } = controllableInsert();
  await new GroupCommit(insert).write([]);
  expect(batches).toEqual([]);
});
