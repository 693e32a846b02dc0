const { PGlite } = require('@electric-sql/pglite');
const { PGLiteSocketServer } = require('@electric-sql/pglite-socket');
const postgres = require('postgres');
(async () => {
  const db = await PGlite.create();
  const server = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1', maxConnections: 10 });
  await server.start();
  const sql = postgres('postgres://postgres@' + server.getServerConn() + '/postgres', { max: Number(process.env.MAX), max_pipeline: Number(process.env.PIPE), onnotice: () => {} });
  await sql`create table if not exists t (id bigint generated always as identity primary key, v text)`;
  for (let round = 0; round < 20; round++) {
  await Promise.all([...Array(20)].map((_, i) => sql.begin(async tx => { const [r] = await tx`insert into t (v) values (${'x'+i}) returning id`; await tx`update t set v = 'y' where id = ${r.id}`; await tx`select 1`; })));
  await Promise.all([...Array(20)].map((_, i) => sql`select * from t where id = ${i}`));
  await Promise.all([...Array(20)].map((_, i) => sql`select * from t where id = ${i} and v = ${'y'}`));
  }
  console.log('multi tx ok', await sql`select count(*) from t`);
  await sql.end(); await server.stop(); await db.close();
})().catch(e => { console.error('FAIL', e.message); process.exit(1); });
