/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  // Migrates once into a template that test databases are copied from.
  globalSetup: '<rootDir>/tests/support/global-setup.ts',
  // jose 6 ships only ES modules, which Node 20's jest cannot require: compile it like our sources.
  transform: { '^.+\\.(ts|js)$': ['@swc/jest'] },
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  // Each file starts its own server and database; two workers match the two cores CI has.
  maxWorkers: 2,
  testTimeout: 30000,
};
