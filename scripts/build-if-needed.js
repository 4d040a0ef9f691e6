// `npm start` on a fresh clone: build once when dist/ is missing or older than src/.
const { existsSync, statSync, readdirSync } = require('node:fs');
const { join } = require('node:path');
const { execSync } = require('node:child_process');

function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

const root = join(__dirname, '..');
const main = join(root, 'dist', 'main.js');
if (!existsSync(main) || statSync(main).mtimeMs < newest(join(root, 'src'))) {
  process.stdout.write('signalgate: building (dist/ is missing or stale)…\n');
  execSync('npx nest build', { cwd: root, stdio: 'inherit' });
}
