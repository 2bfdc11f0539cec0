// Prepares the docs site before `vitepress dev|build`:
// 1. copies the tfjs wasm binaries to docs/public/wasm/ (the browser wasm backend loads them from there);
// 2. generates the API reference pages docs/api/<package>.md from the TSDoc comments in each
//    package's built declarations (packages/<name>/dist/index.d.ts).
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = new URL('..', import.meta.url).pathname;
const docs = join(root, 'docs');
const require = createRequire(import.meta.url);

// what users run too: @tms/backend-web's `tms-copy-wasm <folder>`
const { copyWasmFiles } = await import(pathToFileURL(join(dirname(require.resolve('@tms/backend-web/package.json')), 'bin', 'tms-copy-wasm.mjs')).href);
copyWasmFiles(join(docs, 'public', 'wasm'));

const PACKAGES = ['core', 'data', 'analysis', 'backend-node', 'backend-web', 'viz', 'engine-fused', 'engine-webgpu', 'experiments', 'cli'];
mkdirSync(join(docs, 'api'), { recursive: true });
const index = ['# API reference', '', 'Generated from the TSDoc comments of each package.', ''];
for (const name of PACKAGES) {
  const dts = join(root, '..', '..', 'packages', name, 'dist', 'index.d.ts');
  if (!existsSync(dts)) throw new Error(`${dts} is missing: build the packages first (pnpm build)`);
  const src = readFileSync(dts, 'utf8');
  const pkg = JSON.parse(readFileSync(join(root, '..', '..', 'packages', name, 'package.json'), 'utf8'));
  const entries = [];
  const re = /\/\*\*((?:(?!\*\/)[\s\S])*?)\*\/\s*(?:export\s+)?(?:declare\s+)?(?:abstract\s+)?(function|class|interface|type|const)\s+([A-Za-z0-9_]+)/g;
  let m;
  while ((m = re.exec(src))) {
    const doc = m[1]
      .split('\n')
      .map((l) => l.replace(/^\s*\* ?/, ''))
      .join('\n')
      .trim();
    if (doc.startsWith('@packageDocumentation') || /@packageDocumentation/.test(doc)) continue;
    entries.push({ kind: m[2], name: m[3], doc });
  }
  const seen = new Set();
  const lines = [`# ${pkg.name}`, '', pkg.description, ''];
  for (const e of entries) {
    if (seen.has(e.name)) continue;
    seen.add(e.name);
    const body = e.doc.replace(/@example/g, '**Example**').replace(/@param (\w+) - /g, '- `$1`: ').replace(/@(returns|throws) /g, '*$1* ');
    lines.push(`## ${e.name}`, '', `\`${e.kind}\``, '', '::: v-pre', body, ':::', '');
  }
  writeFileSync(join(docs, 'api', `${name}.md`), lines.join('\n'));
  index.push(`- [${pkg.name}](./${name}.md): ${pkg.description} (${seen.size} documented exports)`);
}
writeFileSync(join(docs, 'api', 'index.md'), index.join('\n') + '\n');

// 3. one guide page per experiment, from the catalogue's own metadata (title, paper section,
//    documented config fields with defaults, variants).
const { CLAIMS, CLAIMS_VERSION, experiments } = await import('@tms/experiments');
/** The figure of each experiment in the repository (docs/figures/<name>.png) and the run it comes from. */
const FIGURES = {
  intro: 'defaults',
  'intro-2d': 'defaults',
  phase: 'defaults',
  geometry: 'defaults',
  nonuniform: 'quick',
  dynamics: 'quick',
  adversarial: 'quick',
  computation: 'quick',
  privileged: 'quick',
  sae: 'defaults',
  l1: 'defaults',
  'double-descent': 'defaults',
};
const PAPER = 'https://transformer-circuits.pub/2022/toy_model/index.html';
mkdirSync(join(docs, 'public', 'figures'), { recursive: true });
/** A table cell: no line breaks, pipes escaped. */
const cell = (t) => String(t).replace(/\|/g, '\\|').replace(/\n/g, ' ');
/** Experiments whose pages also offer the paper variant on WebGPU (the fused GPU engine). */
const PAPER_GPU = ['geometry'];
const { describeField } = await import('@tms/data');
mkdirSync(join(docs, 'experiments'), { recursive: true });
for (const exp of Object.values(experiments)) {
  const kebab = (f) => f.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
  const rows = Object.entries(exp.schema).map(
    ([f, spec]) => `| \`--${kebab(f)}\` | ${spec.doc} | ${describeField(spec)} | \`${JSON.stringify(exp.defaults[f])}\` |`,
  );
  // the repository's figure of this experiment, if any, and the run that draws it
  const png = join(root, '..', '..', 'docs', 'figures', `${exp.name}.png`);
  const figure = FIGURES[exp.name] && existsSync(png) ? png : undefined;
  const figureRun = `pnpm tms run ${exp.name}${FIGURES[exp.name] === 'quick' ? ' --variant quick' : ''}`;
  const variants = Object.entries(exp.variants).map(([k, v]) => `- \`--variant ${k}\`: \`${JSON.stringify(v)}\``);
  const page = [
    `# ${exp.name}`,
    '',
    `::: v-pre`,
    exp.title,
    ':::',
    '',
    `Paper section: *${exp.paperSection}*.`,
    '',
    '```sh',
    `pnpm tms run ${exp.name}                    # defaults`,
    `pnpm tms run ${exp.name} --variant quick    # CPU-quick (what the tests run)`,
    '```',
    '',
    '## The paper\'s claims, checked',
    '',
    `\`tms check\` evaluates these on a run's \`results.json\` (claims v${CLAIMS_VERSION}); the tests check them on the quick variant, and the live run below checks them in your browser. Sections are those of [Toy Models of Superposition](${PAPER}) unless named otherwise.`,
    '',
    '::: v-pre',
    '| claim | holds when the measured value is | section |',
    '|---|---|---|',
    ...CLAIMS.filter((c) => c.experiment === exp.name).map((c) => `| ${cell(c.statement)} | ${cell(c.expected({}, exp.defaults))} | ${cell(c.section)} |`),
    ':::',
    '',
    '```sh',
    `pnpm tms run ${exp.name} --variant quick --out results/${exp.name}-quick && pnpm tms check results/${exp.name}-quick`,
    `pnpm tms run ${exp.name} --seeds 5 --out results/${exp.name}-seeds && pnpm tms check results/${exp.name}-seeds   # every claim on 5 seeds`,
    '```',
    '',
    ...(figure
      ? [
          '## Result',
          '',
          `![${exp.name}: the figure of \`${figureRun}\`](/figures/${exp.name}.png)`,
          '',
          `The figure of \`${figureRun}\`, as in the repository's README; the command writes it as \`${exp.name}.svg\` with its Vega-Lite spec.`,
          '',
        ]
      : []),
    '## Live run',
    '',
    'The quick variant, trained in your browser off the main thread by the same code as',
    `\`tms run ${exp.name} --variant quick\` (the fused engine on one Web Worker per core for linear and ReLU-output models, as the CLI uses worker threads; autodiff on WebAssembly for the others).`,
    '',
    ...(PAPER_GPU.includes(exp.name)
      ? [`With a GPU, *Paper size on WebGPU* trains \`--variant paper\` in the page on the fused WebGPU engine of \`@tms/engine-webgpu\` (batches drawn on the GPU), as \`tms run ${exp.name} --variant paper --backend webgpu\` does in Node.`, '']
      : []),
    `<ClientOnly><ExperimentRun name="${exp.name}"${PAPER_GPU.includes(exp.name) ? ' paper-gpu' : ''} /></ClientOnly>`,
    '',
    '## Config',
    '',
    '::: v-pre',
    '| flag | meaning | allowed | default |',
    '|---|---|---|---|',
    ...rows,
    ':::',
    '',
    '## Variants',
    '',
    ...variants,
    '',
    '## Output',
    '',
    '`results.json` (config, seed, backend, results), `weights.safetensors`, and the figures as `.svg` and `.vl.json`.',
    '',
  ];
  // a hand-written explanation, where there is one (scripts/notes/<name>.md), after the title block
  const notes = join(root, 'scripts', 'notes', `${exp.name}.md`);
  if (existsSync(notes)) page.splice(page.indexOf('## Live run'), 0, readFileSync(notes, 'utf8').trim(), '');
  if (figure) copyFileSync(figure, join(docs, 'public', 'figures', `${exp.name}.png`));
  writeFileSync(join(docs, 'experiments', `${exp.name}.md`), page.join('\n'));
}
console.log('docs: wasm binaries copied, API reference and experiment pages generated');
