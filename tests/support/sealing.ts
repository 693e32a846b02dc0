import type postgres from 'postgres';

/**
 * Waits until no row is left unsealed. The sealer runs every 100 ms here, but a seal's horizon waits
 * for every writing transaction on the cluster, and other test files hold some open for seconds.
 */
export async function untilSealed(sql: postgres.Sql): Promise<void> {
  for (let attempt = 0; attempt < 900; attempt++) {
    const [row] = await sql<{ unsealed: number }[]>`
      select count(*)::int as unsealed from audit_logs a where not exists (select from audit_row_hashes h where h.id = a.id)`;
    if (row!.unsealed === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('rows still unsealed after 90 s');
}
