import { spawn } from 'node:child_process';

/**
 * A watchdog for one cluster: a detached shell that waits for this process to end and then
 * kills every postmaster under `root` with all its children and removes `root`. It covers what
 * `stop()` cannot: a test process that is killed or exits without running its hooks. Before
 * killing, it checks that the pid in `postmaster.pid` still belongs to a process started with a
 * data directory under `root`, so a reused pid is never hit. `stop()` ends the watchdog itself.
 */
export function startReaper(root: string): { readonly pid: number; end(): void } {
  const script = `
root="$1"; parent="$2"
while kill -0 "$parent" 2>/dev/null; do sleep 0.5; done
for f in "$root"/*/postmaster.pid; do
  [ -f "$f" ] || continue
  p=$(head -n 1 "$f")
  case "$p" in ''|*[!0-9]*) continue;; esac
  if tr '\\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -qF -- "$root/"; then
    kill -STOP "$p" 2>/dev/null
    for c in $(ps -o pid= --ppid "$p"); do kill -KILL "$c" 2>/dev/null; done
    kill -KILL "$p" 2>/dev/null
  fi
done
rm -rf -- "$root"
`;
  const child = spawn('bash', ['-c', script, 'converge-pg-reaper', root, String(process.pid)], { detached: true, stdio: 'ignore' });
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start the test cluster watchdog (bash)');
  return {
    pid,
    end() {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    },
  };
}
