// Features declare TypeGraphQL resolvers, whose decorators need the metadata API loaded first
// (the command-line tools reach the features through the action registry, without the server).
import 'reflect-metadata';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { ApiFeature } from '../api/feature';

/** `src/` (or `dist/` once built): its folders are the layers, some of them features. */
const SRC = path.resolve(__dirname, '..');

/** A feature's declaration: `<name>.feature.ts` in its folder (`.js` once built), exporting `feature`. */
const FEATURE_FILE = /^[a-z][a-z0-9-]*\.feature\.(ts|js)$/;

/**
 * Every feature of the API, found by file name in the folders of `src/` (as drizzle-kit finds
 * `*.table.ts`), in the folders' order: adding a feature or an audited resource touches only its
 * own folder and its migration.
 */
export const API_FEATURES: readonly ApiFeature[] = readdirSync(SRC, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort()
  .flatMap((folder) =>
    readdirSync(path.join(SRC, folder))
      .filter((file) => FEATURE_FILE.test(file))
      .sort()
      // A declaration is data, read once at start; the folder's own imports stay static.
      .map((file) => (require(path.join(SRC, folder, file)) as { feature: ApiFeature }).feature),
  );
