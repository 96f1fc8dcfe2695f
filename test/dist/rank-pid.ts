import fs from 'fs';

/** The pid of rank `rank` among the children of process `parent` (Linux /proc). */
export function rankPid(parent: number, rank: number): number {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent && fs.readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(`RANK=${rank}`)) return Number(entry);
    } catch {
      // A process that exited meanwhile.
    }
  }
  throw new Error(`no child of ${parent} with RANK=${rank}`);
}
