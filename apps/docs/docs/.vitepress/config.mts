import { defineConfig } from 'vitepress';
import { experiments } from '@tms/experiments';

export default defineConfig({
  title: 'tms',
  description: 'Toy Models of Superposition in TypeScript — live demos that train in your browser',
  base: process.env.TMS_DOCS_BASE ?? '/',
  // five feature directions in two dimensions: the paper's pentagon
  head: [['link', { rel: 'icon', type: 'image/svg+xml', href: `${process.env.TMS_DOCS_BASE ?? '/'}favicon.svg` }]],
  themeConfig: {
    // MiniSearch over every page, built with the site (no service): API exports included
    search: { provider: 'local' },
    nav: [
      { text: 'Guide', link: '/getting-started' },
      { text: 'Demos', link: '/demos/intro-2d' },
      { text: 'Experiments', link: '/experiments/' },
      { text: 'API', link: '/api/' },
    ],
    sidebar: [
      {
        text: 'Guide',
        items: [
          { text: 'Getting started', link: '/getting-started' },
          { text: 'Tutorial: your own pipeline', link: '/tutorial' },
          { text: 'Backends', link: '/backends' },
          { text: 'WebGPU self-check', link: '/engine-check' },
          { text: 'Sweeps on a cluster', link: '/cluster' },
        ],
      },
      {
        text: 'Live demos',
        items: [
          { text: 'Five features in 2D', link: '/demos/intro-2d' },
          { text: 'Intro figure (n=20, m=5)', link: '/demos/intro' },
          { text: 'Phase diagram', link: '/demos/phase' },
          { text: 'Dimensions per feature', link: '/demos/geometry' },
        ],
      },
      {
        text: 'Experiments',
        items: [
          { text: 'Catalogue', link: '/experiments/' },
          ...Object.keys(experiments).map((e) => ({
            text: e,
            link: `/experiments/${e}`,
          })),
        ],
      },
      {
        text: 'API reference',
        items: ['core', 'data', 'analysis', 'backend-node', 'backend-web', 'viz', 'engine-fused', 'engine-webgpu', 'experiments', 'cli'].map((p) => ({ text: `@tms/${p}`, link: `/api/${p}` })),
      },
    ],
  },
  vite: {
    // tfjs and vega are large; keep them out of dependency pre-bundling noise
    build: { chunkSizeWarningLimit: 4000 },
    // the experiment pages train in a module Web Worker (code-split like the page)
    worker: { format: 'es' },
    ssr: { noExternal: [] },
  },
});
