// Placeholder build for the docs app: copies the markdown guides into dist/.
// The VitePress site with live in-browser demos is tracked in the browser issue.
import { cpSync, mkdirSync } from 'node:fs';

mkdirSync(new URL('./dist', import.meta.url), { recursive: true });
cpSync(new URL('./docs', import.meta.url), new URL('./dist', import.meta.url), { recursive: true });
console.log('docs: copied docs/ to dist/');
