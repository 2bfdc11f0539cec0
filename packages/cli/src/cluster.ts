import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@tms/data';
import { resolveConfig, type Experiment } from '@tms/experiments';
import { intOption } from './config.js';
import { besideFolder, writeFileAtomic, writeJsonAtomic } from './io.js';
import { checkOutFolder, cliVersion } from './runner.js';
import { unitStore } from './shards.js';

/** What `tms slurm` and `tms k8s` take: the run options of `tms run`, and their own flags. */
export interface ClusterArgs {
  /** The experiment to run. */
  exp: Experiment<object>;
  /** The run's output folder, shared by every shard. */
  out: string;
  /** A named variant applied before the config fields. */
  variant?: string;
  /** Config fields from --config and --<field> flags. */
  input: Record<string, unknown>;
  /** --max-memory as given. */
  maxMemoryText?: string;
  /** `--backend` for every shard. */
  backend: string;
  /** `--workers` for every shard (default: `--cpus`, else 1). */
  workers?: number;
  /** The cluster flags (`shards`, `partition`, `time`, `cpus`, `gpus`, `account`, `dry-run`, `tms`, `image`, `claim`, `mount`, `namespace`, `name`). */
  extra: Record<string, string | true>;
}

/** Submitting to the scheduler failed (sbatch missing or refusing). */
export class SubmitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SubmitError';
  }
}

/** Quote a word for a POSIX shell. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Where this installation's `bin.js` is, to run as `node bin.js` on cluster nodes sharing the file system. */
function localTms(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // built: dist/bin.js beside this module; from source (src/): the package's dist/bin.js
  for (const bin of [join(here, 'bin.js'), join(here, '..', 'dist', 'bin.js')]) {
    if (existsSync(bin)) return `${shellQuote(process.execPath)} ${shellQuote(bin)}`;
  }
  throw new ConfigError('tms', 'the command that runs tms on the nodes, e.g. "npx tms" (this installation\'s bin.js was not found)', undefined);
}

function intFlag(a: ClusterArgs, flag: string, min: number, max: number): number | undefined {
  const raw = a.extra[flag];
  return raw === undefined ? undefined : intOption(raw, flag, min, max);
}

function textFlag(a: ClusterArgs, flag: string, pattern: RegExp, allowed: string): string | undefined {
  const raw = a.extra[flag];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !pattern.test(raw)) throw new ConfigError(flag, allowed, raw);
  return raw;
}

/** The checked plan both schedulers share: the resolved config, the shards, and the `tms run` options every shard repeats. */
function plan(a: ClusterArgs) {
  const shards = intFlag(a, 'shards', 1, 10_000);
  if (shards === undefined) throw new ConfigError('shards', 'the number of shards, an integer from 1 to 10000 (--shards N)', undefined);
  const config = resolveConfig(a.exp, a.input, a.variant);
  const cpus = intFlag(a, 'cpus', 1, 1024) ?? a.workers ?? 1;
  const gpus = intFlag(a, 'gpus', 0, 64) ?? 0;
  const runOptions = ['--backend', a.backend, '--workers', String(a.workers ?? cpus), ...(a.maxMemoryText ? ['--max-memory', a.maxMemoryText] : [])];
  return { shards, config, cpus, gpus, runOptions };
}

/** Slurm scripts for a sharded run: an array job (one task per shard) and a merge job. */
export interface SlurmScripts {
  /** Folder the scripts, the config and the logs go to: `<out>.slurm`. */
  dir: string;
  /** Shards in the job array. */
  shards: number;
  /** The resolved config the shards run. */
  config: Record<string, unknown>;
  /** Path of the job-array script (one task per shard). */
  array: string;
  /** Path of the merge job's script (runs after the array). */
  merge: string;
}

/**
 * Write the sbatch scripts of a sharded run of `a.exp` into `<out>.slurm`:
 * `array.sbatch` runs `tms run --shard $SLURM_ARRAY_TASK_ID/N` in each of N
 * array tasks (requeueable: a task run again reuses its saved units), and
 * `merge.sbatch` runs `tms merge <out>`; `config.json` holds the resolved config.
 */
export async function slurmScripts(a: ClusterArgs): Promise<SlurmScripts> {
  const { shards, config, cpus, gpus, runOptions } = plan(a);
  const out = resolve(a.out);
  const dir = besideFolder(out, '.slurm');
  const tms = typeof a.extra.tms === 'string' ? a.extra.tms : localTms();
  const partition = textFlag(a, 'partition', /^[A-Za-z0-9_.,-]+$/, 'a partition name (letters, digits, _ . , -)');
  const time = textFlag(a, 'time', /^(\d+-)?\d+(:\d+){0,2}$/, 'a Slurm time limit: minutes, MM:SS, HH:MM:SS or D-HH:MM:SS');
  const account = textFlag(a, 'account', /^[A-Za-z0-9_.-]+$/, 'an account name (letters, digits, _ . -)');
  const common = [
    ...(partition ? [`#SBATCH --partition=${partition}`] : []),
    ...(time ? [`#SBATCH --time=${time}`] : []),
    ...(account ? [`#SBATCH --account=${account}`] : []),
  ];
  const name = `tms-${a.exp.name}`;
  const header = `# written by tms ${await cliVersion()}: ${a.exp.name} into ${out}, ${shards} shard${shards > 1 ? 's' : ''}`;
  const q = shellQuote;
  const array = [
    '#!/bin/bash',
    `#SBATCH --job-name=${name}`,
    `#SBATCH --array=0-${shards - 1}`,
    `#SBATCH --cpus-per-task=${cpus}`,
    ...(gpus ? [`#SBATCH --gres=gpu:${gpus}`] : []),
    ...common,
    `#SBATCH --output=${dir}/shard-%a.log`,
    '#SBATCH --requeue',
    header,
    '# a task run again (requeued, or resubmitted with --array=K) reuses the units it saved',
    'set -euo pipefail',
    `exec ${tms} run ${a.exp.name} --config ${q(join(dir, 'config.json'))} --out ${q(out)} --shard "\${SLURM_ARRAY_TASK_ID}/${shards}" ${runOptions.map(q).join(' ')}`,
    '',
  ].join('\n');
  const merge = [
    '#!/bin/bash',
    `#SBATCH --job-name=${name}-merge`,
    '#SBATCH --cpus-per-task=1',
    ...common,
    `#SBATCH --output=${dir}/merge.log`,
    header,
    '# submitted with --dependency=afterok:<array job>; exits 4, listing them, if units are missing',
    'set -euo pipefail',
    `exec ${tms} merge ${q(out)}`,
    '',
  ].join('\n');
  return { dir, shards, config: config as Record<string, unknown>, array, merge };
}

/**
 * A Kubernetes Indexed Job (one completion index per shard, the shard from
 * `JOB_COMPLETION_INDEX`) and a merge Job that waits for the units, both on a
 * shared volume (a PersistentVolumeClaim mounted at `--mount`).
 *
 * @returns the two manifests as plain objects (print them with {@link toYaml})
 */
export function k8sManifests(a: ClusterArgs): { shards: Record<string, unknown>; merge: Record<string, unknown> } {
  const { shards, config, cpus, gpus, runOptions } = plan(a);
  const image = textFlag(a, 'image', /^\S+$/, 'a container image holding tms (e.g. registry.example/tms:0.1.0)');
  if (!image) throw new ConfigError('image', 'a container image holding tms (--image registry.example/tms:0.1.0)', undefined);
  const claim = textFlag(a, 'claim', /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'the name of a PersistentVolumeClaim all pods can mount (ReadWriteMany)');
  if (!claim) throw new ConfigError('claim', 'the name of a PersistentVolumeClaim all pods can mount (--claim NAME)', undefined);
  const mount = textFlag(a, 'mount', /^\/\S*$/, 'an absolute path in the container') ?? '/data';
  const out = posix.isAbsolute(a.out) ? posix.normalize(a.out) : posix.join(mount, a.out);
  if (!(out + '/').startsWith(mount.replace(/\/?$/, '/')) || out === mount) throw new ConfigError('out', `a folder inside --mount (${mount}), on the shared volume`, a.out);
  const name = textFlag(a, 'name', /^[a-z0-9]([-a-z0-9]{0,50}[a-z0-9])?$/, 'a Job name: lower-case letters, digits and -, at most 52 characters') ?? `tms-${a.exp.name}`;
  const namespace = textFlag(a, 'namespace', /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a namespace name');
  const tms = typeof a.extra.tms === 'string' ? a.extra.tms : 'tms';
  const q = shellQuote;
  const metadata = (n: string) => ({ name: n, ...(namespace ? { namespace } : {}), labels: { 'app.kubernetes.io/name': 'tms', 'tms/experiment': a.exp.name } });
  const volumes = [{ name: 'results', persistentVolumeClaim: { claimName: claim } }];
  const volumeMounts = [{ name: 'results', mountPath: mount }];
  const shardJob = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: metadata(name),
    spec: {
      completionMode: 'Indexed',
      completions: shards,
      parallelism: shards,
      // a pod run again reuses the units its shard saved
      backoffLimit: 3 * shards,
      template: {
        metadata: { labels: { 'app.kubernetes.io/name': 'tms', 'tms/experiment': a.exp.name } },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'shard',
              image,
              command: ['/bin/sh', '-c'],
              args: [
                `printf '%s' "$TMS_CONFIG" > /tmp/config.json && exec ${tms} run ${a.exp.name} --config /tmp/config.json --out ${q(out)} --shard "$JOB_COMPLETION_INDEX/${shards}" ${runOptions.map(q).join(' ')}`,
              ],
              env: [{ name: 'TMS_CONFIG', value: JSON.stringify(config) }],
              resources: { requests: { cpu: String(cpus) }, ...(gpus ? { limits: { 'nvidia.com/gpu': String(gpus) } } : {}) },
              volumeMounts,
            },
          ],
          volumes,
        },
      },
    },
  };
  const mergeJob = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: metadata(`${name}-merge`),
    spec: {
      completions: 1,
      backoffLimit: 2,
      template: {
        metadata: { labels: { 'app.kubernetes.io/name': 'tms', 'tms/experiment': a.exp.name } },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'merge',
              image,
              command: ['/bin/sh', '-c'],
              // Kubernetes has no job dependencies: the merge polls the unit store until every unit is saved
              args: [`exec ${tms} merge ${q(out)} --wait 604800`],
              resources: { requests: { cpu: '1' } },
              volumeMounts,
            },
          ],
          volumes,
        },
      },
    },
  };
  return { shards: shardJob, merge: mergeJob };
}

/**
 * YAML for plain JSON-like values: block mappings and sequences, numbers and
 * booleans bare, names and paths plain, other strings double-quoted as JSON
 * writes them (valid YAML).
 */
export function toYaml(value: unknown, indent = ''): string {
  if (Array.isArray(value)) {
    if (!value.length) return '[]';
    return value.map((v) => `${indent}- ${itemValue(v, indent + '  ')}`).join('\n');
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value);
    if (!entries.length) return '{}';
    return entries.map(([k, v]) => `${indent}${/^[A-Za-z0-9_./-]+$/.test(k) ? k : JSON.stringify(k)}:${inlineOrBlock(v, indent + '  ')}`).join('\n');
  }
  return scalar(value);
}

function scalar(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null || v === undefined) return 'null';
  const text = String(v);
  // plain where no YAML reader could take it for anything but this string
  if (/^[A-Za-z_/][A-Za-z0-9_./-]*$/.test(text) && !/^(y|n|yes|no|on|off|true|false|null)$/i.test(text)) return text;
  return JSON.stringify(text);
}

function isBlock(v: unknown): boolean {
  return Boolean(v && typeof v === 'object' && (Array.isArray(v) ? v.length : Object.keys(v).length));
}

function inlineOrBlock(v: unknown, indent: string): string {
  return isBlock(v) ? `\n${toYaml(v, indent)}` : ` ${toYaml(v, indent)}`;
}

/** A sequence item: a mapping's first key goes on the dash line. */
function itemValue(v: unknown, indent: string): string {
  if (!isBlock(v)) return toYaml(v, indent);
  if (Array.isArray(v)) return `\n${toYaml(v, indent)}`;
  return toYaml(v, indent).slice(indent.length);
}

/** Run `tms slurm` / `tms k8s` with checked arguments; returns the exit code. */
export async function clusterCommand(command: 'slurm' | 'k8s', a: ClusterArgs, io: { out: (s: string) => void; err: (s: string) => void }): Promise<number> {
  if (command === 'k8s') {
    const { shards, merge } = k8sManifests(a);
    io.out(`# tms k8s: ${a.exp.name}; kubectl apply -f <this file>\n---\n${toYaml(shards)}\n---\n${toYaml(merge)}`);
    return 0;
  }
  const s = await slurmScripts(a);
  if (a.extra['dry-run']) {
    io.out(`# ${join(s.dir, 'config.json')}\n${JSON.stringify(s.config, null, 1)}\n\n# ${join(s.dir, 'array.sbatch')}\n${s.array}\n# ${join(s.dir, 'merge.sbatch')}\n${s.merge}`);
    return 0;
  }
  const out = resolve(a.out);
  await checkOutFolder(out);
  await writeJsonAtomic(join(s.dir, 'config.json'), s.config);
  await writeFileAtomic(join(s.dir, 'array.sbatch'), s.array);
  await writeFileAtomic(join(s.dir, 'merge.sbatch'), s.merge);
  const sbatch = (args: string[]) => {
    const r = spawnSync('sbatch', args, { encoding: 'utf8' });
    if (r.error) throw new SubmitError(`cannot run sbatch (${r.error.message}); run on a Slurm login node, or use --dry-run to print the scripts (written to ${s.dir})`);
    if (r.status !== 0) throw new SubmitError(`sbatch ${args.join(' ')} failed (exit ${r.status}): ${r.stderr.trim()}`);
    return r.stdout.trim().split(';')[0];
  };
  const arrayId = sbatch(['--parsable', join(s.dir, 'array.sbatch')]);
  const mergeId = sbatch(['--parsable', `--dependency=afterok:${arrayId}`, '--kill-on-invalid-dep=yes', join(s.dir, 'merge.sbatch')]);
  io.out(`submitted ${a.exp.name}: array job ${arrayId} (${s.shards} shard${s.shards > 1 ? 's' : ''}), merge job ${mergeId} after it`);
  io.out(`scripts and logs: ${s.dir}; units: ${unitStore(out)}; watch: squeue -j ${arrayId},${mergeId}`);
  return 0;
}
