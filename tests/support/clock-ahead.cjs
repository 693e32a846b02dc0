// Preloaded with `node --require` into a server process to run its clock CLOCK_AHEAD_MS ahead of
// the host's, like a replica on a machine whose clock drifted: what the process stamps itself
// (log times, token checks) moves; what the database stamps must not.
'use strict';
const ahead = Number(process.env.CLOCK_AHEAD_MS);
if (!Number.isFinite(ahead)) throw new Error('CLOCK_AHEAD_MS must be a number of milliseconds');
const HostDate = Date;
globalThis.Date = class AheadDate extends HostDate {
  constructor(...args) {
    if (args.length === 0) super(HostDate.now() + ahead);
    else super(...args);
  }
  static now() {
    return HostDate.now() + ahead;
  }
};
