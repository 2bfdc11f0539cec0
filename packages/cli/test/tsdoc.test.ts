// TSDoc coverage of every public entry point of every @tms package (what users see in their editor
// and what the API reference is generated from).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = new URL('../../../', import.meta.url).pathname;

/** Every public entry point: the `@tms/source` file of each `exports` subpath. */
function entryPoints(): { name: string; file: string }[] {
  const out: { name: string; file: string }[] = [];
  for (const dir of readdirSync(join(root, 'packages'))) {
    const pj = join(root, 'packages', dir, 'package.json');
    if (!existsSync(pj)) continue;
    const pkg = JSON.parse(readFileSync(pj, 'utf8'));
    for (const [sub, target] of Object.entries<Record<string, unknown> | string>(pkg.exports ?? {})) {
      const src = typeof target === 'object' ? target['@tms/source'] : undefined;
      if (typeof src === 'string' && src.endsWith('.ts')) out.push({ name: pkg.name + (sub === '.' ? '' : sub.slice(1)), file: join(root, 'packages', dir, src) });
    }
  }
  return out;
}

/** Exports without a doc comment, and public members of exported interfaces and classes without one. */
function undocumented(): { exports: string[]; members: string[] } {
  const entries = entryPoints();
  const program = ts.createProgram(
    entries.map((e) => e.file),
    { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, skipLibCheck: true, noEmit: true, customConditions: ['@tms/source'] },
  );
  const checker = program.getTypeChecker();
  const doc = (s: ts.Symbol) => ts.displayPartsToString(s.getDocumentationComment(checker)).trim();
  /** A comment on an `export { x }` declaration along the chain of re-exports (e.g. of a namespace import). */
  const reExportDoc = (sym: ts.Symbol): boolean => {
    for (let s: ts.Symbol | undefined = sym; s && s.flags & ts.SymbolFlags.Alias; s = checker.getImmediateAliasedSymbol(s)) {
      const decl = s.declarations?.[0];
      const exportDecl = decl && ts.isExportSpecifier(decl) ? decl.parent.parent : undefined;
      if (exportDecl && ts.getJSDocCommentsAndTags(exportDecl).length) return true;
    }
    return false;
  };
  const exports: string[] = [];
  const members: string[] = [];
  for (const e of entries) {
    const mod = checker.getSymbolAtLocation(program.getSourceFile(e.file)!);
    expect(mod, e.file).toBeDefined();
    for (const sym of checker.getExportsOfModule(mod!)) {
      const target = sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym;
      if (!doc(target) && !reExportDoc(sym)) exports.push(`${e.name}: ${sym.name}`);
      if (!(target.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.Class))) continue;
      for (const [key, m] of target.members ?? new Map()) {
        const name = String(key);
        if (name === '__constructor' || name === '__index' || name === '__call' || m.flags & ts.SymbolFlags.TypeParameter) continue;
        const decl = m.declarations?.[0];
        if (decl && ts.getCombinedModifierFlags(decl) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
        if (!doc(m)) members.push(`${e.name}: ${sym.name}.${name}`);
      }
    }
  }
  return { exports: [...new Set(exports)], members: [...new Set(members)] };
}

describe('TSDoc coverage', () => {
  const found = undocumented();

  it('every export of every entry point has a doc comment', () => {
    expect(entryPoints().length).toBeGreaterThanOrEqual(12);
    expect(found.exports).toEqual([]);
  });

  it('every public member of an exported interface or class has a doc comment', () => {
    // 198 when this check was added (2026-11-26); every one documented since
    expect(found.members).toEqual([]);
  });
});
