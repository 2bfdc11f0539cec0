// Every TypeScript example in README.md, packages/*/README.md and the docs site's guides, run as a
// user would: in a new npm project that installs the packed @tms tarballs, then type-checked with
// `tsc --strict` and run with Node. Fences: ```ts runs in Node; ```ts continues is appended to the
// block before it (a chain runs once, whole; each shorter prefix is type-checked); ```ts browser (it needs a DOM or a bundler) and
// ```ts gpu (minutes on a software adapter) are type-checked only.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';

const root = new URL('../../../', import.meta.url).pathname;
const packages = readdirSync(join(root, 'packages')).filter((d) => existsSync(join(root, 'packages', d, 'package.json')));

interface Example {
  /** e.g. `packages/core/README.md #1`. */
  name: string;
  code: string;
  run: boolean;
}

/** The ```ts blocks of the READMEs, with `continues` blocks joined to the one before. */
function examples(): Example[] {
  const out: Example[] = [];
  const guides = ['getting-started.md', 'tutorial.md', 'backends.md', 'cluster.md'].map((f) => join('apps', 'docs', 'docs', f));
  for (const file of ['README.md', ...packages.map((d) => join('packages', d, 'README.md')), ...guides]) {
    const text = readFileSync(join(root, file), 'utf8');
    let k = 0;
    let previous: Example | undefined;
    for (const m of text.matchAll(/^```(?:ts|typescript)([^\n]*)\n([\s\S]*?)^```/gm)) {
      const info = m[1].trim().split(/\s+/);
      k++;
      if (info.includes('continues')) {
        if (!previous) throw new Error(`${file} #${k}: a \`continues\` block needs a block before it`);
        const prefix = previous;
        previous = { name: `${file} #${k} (with #${k - 1})`, code: `${prefix.code}\n${m[2]}`, run: prefix.run };
        // the chain so far runs as part of this longer one: it is type-checked alone, run only whole
        prefix.run = false;
      } else {
        previous = { name: `${file} #${k}`, code: m[2], run: !info.includes('browser') && !info.includes('gpu') };
      }
      out.push(previous);
    }
  }
  return out;
}

const all = examples();

/** `node <file>` in the project, its exit status and output. */
function runNode(file: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [file], { cwd: project, encoding: 'utf8', timeout: 240_000, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      done({ status: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

/** At most one running task per core. */
const cores = availableParallelism();
let running = 0;
const waiting: (() => void)[] = [];
async function slot<T>(task: () => Promise<T>): Promise<T> {
  if (running < cores) running++;
  else await new Promise<void>((go) => waiting.push(go)); // a finished task hands its slot over
  try {
    return await task();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running--;
  }
}
const fileOf = (i: number) => `example-${i}`;
let project: string;

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'tms-examples-'));
  const tarballs = join(project, 'tarballs');
  mkdirSync(tarballs);
  for (const dir of packages) {
    const cwd = join(root, 'packages', dir);
    if (!existsSync(join(cwd, 'dist'))) execFileSync('pnpm', ['run', 'build'], { cwd, stdio: 'pipe' });
    execFileSync('pnpm', ['pack', '--pack-destination', tarballs], { cwd, stdio: 'pipe', env: { ...process.env, npm_config_ignore_scripts: 'true' } });
  }
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'tms-examples', private: true, type: 'module' }));
  // what a user adds beside the packages: the tfjs peer and a CPU backend, WebGPU for Node, Node's types
  const deps = readdirSync(tarballs).map((f) => `./tarballs/${f}`);
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...deps, '@tensorflow/tfjs-core@4.22.0', '@tensorflow/tfjs-backend-cpu@4.22.0', 'webgpu@0.6.2', '@types/node@20', 'typescript@5.9.3'], {
    cwd: project,
    stdio: 'pipe',
    timeout: 300_000,
  });
  // a bundler's `?worker` import (Vite), as its client types declare it
  writeFileSync(join(project, 'bundler.d.ts'), "declare module '*?worker' {\n  const W: { new (): Worker };\n  export default W;\n}\n");
  for (const [i, e] of all.entries()) {
    writeFileSync(join(project, `${fileOf(i)}.ts`), `// ${e.name}\n${e.code}\nexport {};\n`);
    const js = ts.transpileModule(e.code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
    writeFileSync(join(project, `${fileOf(i)}.mjs`), js);
  }
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { strict: true, noUncheckedIndexedAccess: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2022', 'dom'], types: ['node'], noEmit: true, skipLibCheck: true },
      include: ['example-*.ts', 'bundler.d.ts'],
    }),
  );
  // Node code that draws figures or reads weight files, compiled without the DOM library
  writeFileSync(
    join(project, 'node-only.ts'),
    "import { lineChartSpec, renderSvg } from '@tms/viz';\nimport { decodeSafetensors, encodeSafetensors } from '@tms/core/safetensors';\n" +
      "const svg: string = await renderSvg(lineChartSpec([{ name: 'a', x: [1], y: [1] }]));\nconsole.log(svg.length, decodeSafetensors(encodeSafetensors({ w: { data: new Float32Array(1), shape: [1] } })));\nexport {};\n",
  );
  writeFileSync(
    join(project, 'tsconfig.node.json'),
    JSON.stringify({
      compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2022'], types: ['node'], noEmit: true, skipLibCheck: false },
      files: ['node-only.ts'],
    }),
  );
}, 600_000);

describe('README examples, in a new project with the packed packages', () => {
  it('finds the examples of every README that has code', () => {
    expect(all.length).toBeGreaterThanOrEqual(15);
    expect(all.filter((e) => e.run).length).toBeGreaterThanOrEqual(12);
  });

  it('every example type-checks under --strict (and noUncheckedIndexedAccess)', () => {
    const tsc = spawnSync(join(project, 'node_modules', '.bin', 'tsc'), ['-p', project], { cwd: project, encoding: 'utf8' });
    // name the README block of each error
    const report = tsc.stdout.replace(/example-(\d+)\.ts/g, (_, i) => all[Number(i)].name);
    expect(report).toBe('');
    expect(tsc.status).toBe(0);
  }, 300_000);

  it('@tms/viz and @tms/core/safetensors compile in Node without the DOM library (skipLibCheck off)', () => {
    const tsc = spawnSync(join(project, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.node.json'], { cwd: project, encoding: 'utf8' });
    // errors of our own declarations or of the example (tfjs-core's own declarations need the DOM library whatever we do)
    const ours = tsc.stdout.split('\n').filter((l) => /^(node-only\.ts|node_modules\/@tms\/(viz|core\/dist\/safetensors))/.test(l));
    expect(ours).toEqual([]);
  }, 300_000);

  // most examples train on tfjs' CPU backend, one thread each: run as many at once as there are cores
  it.concurrent.each(all.map((e, i) => [e.name, i] as const).filter(([, i]) => all[i].run))('%s runs', async (_name, i) => {
    const run = await slot(() => runNode(`${fileOf(i)}.mjs`));
    expect(run.status, `${relative(root, project)}\n${run.stdout.slice(-2000)}\n${run.stderr.slice(-4000)}`).toBe(0);
  }, 300_000);
});
