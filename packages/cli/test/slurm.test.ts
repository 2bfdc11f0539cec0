// A real scheduler: Debian's slurm-wlm and munge, a one-node cluster on
// localhost (munged, slurmctld, slurmd, a generated slurm.conf), a quick phase
// sweep submitted by `tms slurm` as a 3-task array plus its merge job, and the
// merged results compared bit for bit with a one-machine run. The test installs
// the packages itself and skips, saying why, only without root or apt-get.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const PROGRAMS = ['/usr/sbin/munged', '/usr/sbin/slurmctld', '/usr/sbin/slurmd', '/usr/bin/sbatch', '/usr/bin/scontrol'];

/** Install slurm-wlm and munge where missing; the reason to skip, or null. */
function ensureSlurm(): string | null {
  if (PROGRAMS.every(existsSync)) return null;
  if (process.getuid?.() !== 0) return `slurm-wlm and munge are not installed and this is not root: apt-get install -y slurm-wlm munge`;
  if (spawnSync('apt-get', ['--version']).status !== 0) return 'slurm-wlm and munge are not installed and there is no apt-get';
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'slurm-wlm', 'munge'], { stdio: 'inherit', env }).status;
  if (install() !== 0) {
    spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
    if (install() !== 0) throw new Error('apt-get install slurm-wlm munge failed');
  }
  if (!PROGRAMS.every(existsSync)) throw new Error(`apt-get installed slurm-wlm and munge, but ${PROGRAMS.filter((p) => !existsSync(p)).join(', ')} are missing`);
  return null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): { code: number | null; out: string; err: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env });
  return { code: r.status, out: r.stdout ?? '', err: r.stderr ?? '' };
}

/** The `tms` command in a child process, as a user runs it. */
function tms(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += String(d)));
    child.stderr.on('data', (d) => (err += String(d)));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

const skip = ensureSlurm();
let dir = '';
let env: NodeJS.ProcessEnv = {};

/** A one-node cluster on localhost, all of its files in `dir`. */
async function startCluster(): Promise<void> {
  dir = await mkdtemp(join(tmpdir(), 'tms-slurm-cluster-'));
  for (const d of ['munge', 'state', 'spool']) await mkdir(join(dir, d));
  await chmod(join(dir, 'munge'), 0o700);
  await writeFile(join(dir, 'munge', 'munge.key'), randomBytes(1024), { mode: 0o400 });
  const socket = join(dir, 'munge', 'munge.socket');
  const m = run('/usr/sbin/munged', ['--force', `--key-file=${join(dir, 'munge', 'munge.key')}`, `--socket=${socket}`, `--pid-file=${join(dir, 'munge', 'munged.pid')}`, `--log-file=${join(dir, 'munge', 'munged.log')}`, `--seed-file=${join(dir, 'munge', 'munge.seed')}`]);
  if (m.code !== 0) throw new Error(`munged did not start: ${m.err}`);
  const host = hostname();
  const conf = [
    'ClusterName=tmstest',
    `SlurmctldHost=${host}(127.0.0.1)`,
    'SlurmUser=root',
    'SlurmdUser=root',
    `SlurmctldPort=${await freePort()}`,
    `SlurmdPort=${await freePort()}`,
    'AuthType=auth/munge',
    `AuthInfo=socket=${socket}`,
    'CredType=cred/munge',
    `StateSaveLocation=${join(dir, 'state')}`,
    `SlurmdSpoolDir=${join(dir, 'spool')}`,
    `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`,
    `SlurmdPidFile=${join(dir, 'slurmd.pid')}`,
    `SlurmctldLogFile=${join(dir, 'slurmctld.log')}`,
    `SlurmdLogFile=${join(dir, 'slurmd.log')}`,
    // no cgroups in a container: track processes by /proc, no task binding, no accounting
    'ProctrackType=proctrack/linuxproc',
    'TaskPlugin=task/none',
    'JobAcctGatherType=jobacct_gather/none',
    'SelectType=select/cons_tres',
    'SelectTypeParameters=CR_CPU',
    'MpiDefault=none',
    'ReturnToService=2',
    'SchedulerType=sched/builtin',
    `NodeName=${host} NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN`,
    'PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP',
    '',
  ].join('\n');
  await writeFile(join(dir, 'slurm.conf'), conf);
  env = { ...process.env, SLURM_CONF: join(dir, 'slurm.conf') };
  for (const daemon of ['/usr/sbin/slurmctld', '/usr/sbin/slurmd']) {
    const r = run(daemon, ['-f', join(dir, 'slurm.conf')], env);
    if (r.code !== 0) throw new Error(`${daemon} did not start: ${r.err}`);
  }
  for (let i = 0; i < 100; i++) {
    if (/idle/.test(run('/usr/bin/sinfo', ['-h', '-o', '%t'], env).out)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the Slurm node did not come up: ${await readFile(join(dir, 'slurmctld.log'), 'utf8').catch(() => '')}`);
}

async function stopCluster(): Promise<void> {
  if (!dir) return;
  run('/usr/bin/scontrol', ['shutdown'], env);
  await new Promise((r) => setTimeout(r, 1000));
  for (const pidFile of ['slurmctld.pid', 'slurmd.pid', join('munge', 'munged.pid')]) {
    const pid = Number((await readFile(join(dir, pidFile), 'utf8').catch(() => '')).trim());
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  }
  await new Promise((r) => setTimeout(r, 500));
  await rm(dir, { recursive: true, force: true });
}

/** The state of a job (COMPLETED, FAILED, …), from scontrol. */
function jobState(id: string): string {
  return /JobState=(\w+)/.exec(run('/usr/bin/scontrol', ['show', 'job', id], env).out)?.[1] ?? 'UNKNOWN';
}

async function resultsWithoutTimes(d: string): Promise<unknown> {
  return JSON.parse(await readFile(join(d, 'results.json'), 'utf8'), (k, v: unknown) => (k === 'seconds' || k === 'createdAt' || k === 'trainedBy' ? undefined : v));
}

describe.skipIf(skip !== null)(`tms slurm on a one-node Slurm cluster${skip ? ` (skipped: ${skip})` : ''}`, () => {
  beforeAll(startCluster, 60_000);
  afterAll(stopCluster, 30_000);

  it('a 3-shard phase sweep (array job + merge job) merges bit-identical to a one-machine run', async () => {
    const work = await mkdtemp(join(tmpdir(), 'tms-slurm-run-'));
    const sweep = ['--variant', 'quick', '--steps', '600', '--log-every', '100', '--chunk-size', '7', '--backend', 'wasm'];
    const single = await tms(['run', 'phase', ...sweep, '--out', join(work, 'single'), '--workers', '1', '--quiet'], env);
    expect(single.code, single.err).toBe(0);

    const out = join(work, 'sharded');
    const submitted = await tms(['slurm', 'phase', ...sweep, '--out', out, '--shards', '3', '--cpus', '1', '--time', '10'], env);
    expect(submitted.code, submitted.err).toBe(0);
    const [, arrayId, mergeId] = /array job (\d+) \(3 shards\), merge job (\d+) after it/.exec(submitted.out) ?? [];
    expect(arrayId, submitted.out).toBeTruthy();
    // the merge waits for the array (afterok), then runs
    expect(run('/usr/bin/scontrol', ['show', 'job', mergeId], env).out).toMatch(new RegExp(`Dependency=afterok:${arrayId}`));
    let state = '';
    for (let i = 0; i < 600 && !['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL'].includes(state); i++) {
      await new Promise((r) => setTimeout(r, 500));
      state = jobState(mergeId);
    }
    const logs = `${out}.slurm`;
    const logText = async (f: string) => readFile(join(logs, f), 'utf8').catch(() => '(missing)');
    expect(state, `merge job ${state}\n${await logText('merge.log')}\n${await logText('shard-0.log')}`).toBe('COMPLETED');
    for (const k of [0, 1, 2]) expect(await logText(`shard-${k}.log`)).toMatch(new RegExp(`shard ${k}/3: trained [23] units`));
    expect(await logText('merge.log')).toMatch(/merged phase into/);
    expect((await readdir(logs)).sort()).toEqual(['array.sbatch', 'config.json', 'merge.log', 'merge.sbatch', 'shard-0.log', 'shard-1.log', 'shard-2.log']);

    // bit for bit: weights and figures; results.json apart from its timings
    const a = join(work, 'single');
    expect((await readFile(join(out, 'weights.safetensors'))).equals(await readFile(join(a, 'weights.safetensors')))).toBe(true);
    for (const f of ['phase.svg', 'phase.vl.json']) expect((await readFile(join(out, f))).equals(await readFile(join(a, f))), f).toBe(true);
    expect(await resultsWithoutTimes(out)).toEqual(await resultsWithoutTimes(a));
    expect(existsSync(join(out, '.units'))).toBe(false);
  }, 240_000);
});
