/**
 * Imported first by the benchmark's entry points: graphql-js and Express read `NODE_ENV` once, when
 * they load, and skip development-only checks in production, so measure them as they are deployed.
 */
process.env.NODE_ENV = 'production';
