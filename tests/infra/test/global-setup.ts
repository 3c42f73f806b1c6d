// Installs the missing Debian tools once, before the test files run in parallel (one apt-get, no contention for dpkg).
import { spawnSync } from 'node:child_process';
import { aptInstall, TOOLS } from './support.js';

export default function setup(): void {
  const missing = Object.entries(TOOLS)
    .filter(([command]) => spawnSync('sh', ['-c', `command -v ${command} || ls /usr/sbin/${command}`], { stdio: 'ignore' }).status !== 0)
    .map(([, debianPackage]) => debianPackage);
  // A failure shows in the tests that need the tool, each naming it; nothing is skipped.
  if (missing.length > 0) aptInstall(missing);
}
