// `tms slurm --dry-run` and `tms k8s`: the scripts and manifests a sharded run
// is submitted with (the real Slurm cluster test is slurm.test.ts).
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { main, shellQuote, toYaml, writeFileAtomic } from '../src/index.js';

async function tms(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('tms slurm --dry-run', () => {
  it('prints an array script (one task per shard, shard from SLURM_ARRAY_TASK_ID, requeueable), a merge script and the resolved config, writing nothing', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'tms-slurm-')), 'phase run');
    const r = await tms(['slurm', 'phase', '--variant', 'quick', '--steps', '500', '--out', out, '--shards', '3', '--partition', 'cpu', '--time', '0:30:00', '--cpus', '4', '--gpus', '1', '--account', 'lab', '--backend', 'wasm', '--tms', 'npx tms', '--dry-run']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const [, configText, array, merge] = r.out.split(/^# .*(?:config\.json|array\.sbatch|merge\.sbatch)$/m);
    const config = JSON.parse(configText) as Record<string, unknown>;
    // the variant and the overrides are resolved into the config every shard reads
    expect(config).toMatchObject({ steps: 500, importancePoints: 7, densityPoints: 7, restarts: 4, chunkSize: 25 });
    expect(array).toContain('#SBATCH --array=0-2');
    expect(array).toContain('#SBATCH --cpus-per-task=4');
    expect(array).toContain('#SBATCH --gres=gpu:1');
    expect(array).toContain('#SBATCH --partition=cpu');
    expect(array).toContain('#SBATCH --time=0:30:00');
    expect(array).toContain('#SBATCH --account=lab');
    expect(array).toContain('#SBATCH --requeue');
    expect(array).toContain(`#SBATCH --output=${out}.slurm/shard-%a.log`);
    expect(array).toContain(`exec npx tms run phase --config '${out}.slurm/config.json' --out '${out}' --shard "\${SLURM_ARRAY_TASK_ID}/3" --backend wasm --workers 4`);
    expect(merge).toContain(`exec npx tms merge '${out}'`);
    expect(merge).toContain(`#SBATCH --output=${out}.slurm/merge.log`);
    expect(merge).not.toContain('--array');
    expect(existsSync(`${out}.slurm`)).toBe(false);
    expect(existsSync(out)).toBe(false);
  });

  it('without --tms, the scripts run this installation (node and its bin.js)', async () => {
    const r = await tms(['slurm', 'intro', '--shards', '2', '--out', '/tmp/x', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`exec ${process.execPath.replace(/[/.]/g, '\\$&')} \\S+/dist/bin\\.js run intro`));
  });

  it.each([
    [['--out', '/tmp/x'], /field "shards": got undefined; allowed: the number of shards/],
    [['--shards', '0'], /field "shards"/],
    [['--shards', '2', '--time', 'soon'], /field "time": got "soon"; allowed: a Slurm time limit/],
    [['--shards', '2', '--partition', 'a b'], /field "partition"/],
    [['--shards', '2', '--cpus', 'many'], /field "cpus"/],
    [['--shards', '2', '--steps', '-1'], /field "steps"/],
    [['--shards', '2', '--shard', '0/2'], /field "shard"|--shard/],
  ])('refuses %j with exit 2, naming the field', async (args, pattern) => {
    const r = await tms(['slurm', 'phase', ...args, '--dry-run']);
    expect(r.err).toMatch(pattern);
    expect(r.code).toBe(2);
  });

  it('says how to proceed where sbatch is missing (exit 1), after writing the scripts', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'tms-slurm-')), 'out');
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const r = await tms(['slurm', 'phase', '--variant', 'quick', '--shards', '2', '--out', out, '--tms', 'tms']);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/cannot run sbatch .*run on a Slurm login node, or use --dry-run/);
    } finally {
      process.env.PATH = path;
    }
    expect(await readFile(join(`${out}.slurm`, 'array.sbatch'), 'utf8')).toContain('#SBATCH --array=0-1');
  });

  it('refuses an --out holding foreign files before submitting', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tms-slurm-'));
    await writeFileAtomic(join(dir, 'notes.txt'), 'mine');
    const r = await tms(['slurm', 'phase', '--shards', '2', '--out', dir, '--tms', 'tms']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/field "out".*notes\.txt/);
  });
});

describe('tms k8s', () => {
  const args = ['k8s', 'geometry', '--variant', 'quick', '--shards', '4', '--image', 'registry.example/tms:0.1.0', '--claim', 'results-rwx', '--out', 'runs/geometry', '--cpus', '2'];

  it('prints an Indexed Job (one completion index per shard) and a merge Job on one shared volume', async () => {
    const r = await tms(args);
    expect(r.code).toBe(0);
    const docs = parseAllDocuments(r.out).map((d) => d.toJS() as Record<string, any>).filter(Boolean);
    expect(docs).toHaveLength(2);
    const [job, merge] = docs;
    expect(job).toMatchObject({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'tms-geometry', labels: { 'app.kubernetes.io/name': 'tms', 'tms/experiment': 'geometry' } },
      spec: { completionMode: 'Indexed', completions: 4, parallelism: 4, template: { spec: { restartPolicy: 'Never' } } },
    });
    const pod = job.spec.template.spec;
    const c = pod.containers[0];
    expect(c.image).toBe('registry.example/tms:0.1.0');
    expect(c.command).toEqual(['/bin/sh', '-c']);
    expect(c.args[0]).toContain('--shard "$JOB_COMPLETION_INDEX/4"');
    expect(c.args[0]).toContain('--out /data/runs/geometry');
    expect(c.args[0]).toContain('--workers 2');
    expect(c.resources).toEqual({ requests: { cpu: '2' } });
    // the resolved config travels in the manifest
    expect(JSON.parse(c.env.find((e: { name: string }) => e.name === 'TMS_CONFIG').value)).toMatchObject({ features: 40, hidden: 10, densityPoints: 8, chunkSize: 8 });
    expect(pod.volumes).toEqual([{ name: 'results', persistentVolumeClaim: { claimName: 'results-rwx' } }]);
    expect(c.volumeMounts).toEqual([{ name: 'results', mountPath: '/data' }]);
    expect(merge).toMatchObject({ kind: 'Job', metadata: { name: 'tms-geometry-merge' }, spec: { completions: 1 } });
    const m = merge.spec.template.spec.containers[0];
    expect(m.args[0]).toBe('exec tms merge /data/runs/geometry --wait 604800');
    expect(merge.spec.template.spec.volumes).toEqual(pod.volumes);
    expect(merge.spec.completionMode).toBeUndefined();
  });

  it('asks for GPUs as a limit', async () => {
    const r = await tms([...args, '--gpus', '1', '--namespace', 'lab', '--name', 'geo-1']);
    const job = parseAllDocuments(r.out)[0].toJS() as Record<string, any>;
    expect(job.metadata).toMatchObject({ name: 'geo-1', namespace: 'lab' });
    expect(job.spec.template.spec.containers[0].resources.limits).toEqual({ 'nvidia.com/gpu': '1' });
  });

  it.each([
    [['--image', 'x', '--shards', '2'], /field "claim"/],
    [['--claim', 'c', '--shards', '2'], /field "image"/],
    [['--image', 'x', '--claim', 'c', '--shards', '2', '--out', '/elsewhere/run'], /field "out".*allowed: a folder inside --mount \(\/data\)/],
    [['--image', 'x', '--claim', 'Not_A_Name', '--shards', '2'], /field "claim"/],
    [['--image', 'x', '--claim', 'c', '--shards', '2', '--name', 'UPPER'], /field "name"/],
  ])('refuses %j with exit 2, naming the field', async (extra, pattern) => {
    const r = await tms(['k8s', 'phase', ...extra]);
    expect(r.err).toMatch(pattern);
    expect(r.code).toBe(2);
  });
});

describe('toYaml and shellQuote', () => {
  it('writes YAML that parses back to the same value (quotes, colons, newlines, empty lists and maps)', () => {
    const value = {
      a: 'plain',
      'b c': 'with: colon',
      d: ['x', { e: 1, f: [true, null] }, []],
      g: {},
      h: 'two\nlines "quoted"',
      i: [[1, 2], { j: { k: 'deep' } }],
      // plain-looking strings YAML would read as something else stay strings
      l: ['yes', 'No', 'null', '1.5', '0x10', '-', '/data/run', 'batch/v1', '*', '&a', '# x', ''],
    };
    expect(parse(toYaml(value))).toEqual({ ...value, d: ['x', { e: 1, f: [true, null] }, []] });
  });

  it('quotes for a POSIX shell', () => {
    expect(shellQuote('/plain/path-1.json')).toBe('/plain/path-1.json');
    expect(shellQuote("it's here")).toBe(`'it'\\''s here'`);
  });
});
