'use strict';
// Whether dist/ (the compiled build of src/, see tsconfig.build.json) is current: its stamp is at
// least as new as every input. The stamp carries the time the build started, so a file edited
// during a build counts as newer. Used by scripts/build-dist.js and by bin/longrope.js (a few
// stat calls: cheap enough for the CLI's start).
const fs = require('fs');
const path = require('path');

const STAMP = path.join('dist', '.build-stamp');
const CONFIGS = ['tsconfig.json', 'tsconfig.build.json'];

function mtime(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return -1;
  }
}

function newestIn(dir) {
  let newest = mtime(dir); // a deleted or renamed file only shows in its folder's mtime
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestIn(full) : mtime(full));
  }
  return newest;
}

/** The newest modification time among the build's inputs (src/ and the tsconfig files). */
function newestInput(root) {
  return Math.max(newestIn(path.join(root, 'src')), ...CONFIGS.map((c) => mtime(path.join(root, c))));
}

/** True when dist/ was built from the current src/ (false when it is missing or older). */
function distIsFresh(root) {
  const stamp = mtime(path.join(root, STAMP));
  return stamp >= 0 && stamp >= newestInput(root);
}

module.exports = { STAMP, newestInput, distIsFresh };
