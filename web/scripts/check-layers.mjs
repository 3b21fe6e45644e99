// Keeps the UI's layers apart (run by `npm run build`): API clients and shared models live in
// src/api/ and src/models/, never in a page folder, and a page folder imports from another page
// folder only its components (files named in PascalCase), never its API calls or models.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const pages = resolve(dirname(fileURLToPath(import.meta.url)), '../src/pages');

function sources(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.tsx?$/.test(name) ? [path] : [];
  });
}

/** The page folder a file under src/pages belongs to ('' for files directly in src/pages). */
function folderOf(path) {
  const parts = relative(pages, path).split(sep);
  return parts.length > 1 ? parts[0] : '';
}

const problems = [];
for (const file of sources(pages)) {
  const rel = relative(pages, file);
  if (/(^|[/\\])api\.tsx?$|Api\.tsx?$/.test(rel)) {
    problems.push(`src/pages/${rel}: API clients belong in src/api/`);
  }
  const from = folderOf(file);
  for (const [, spec] of readFileSync(file, 'utf8').matchAll(/\bfrom\s+'(\.[^']*)'/g)) {
    const target = resolve(dirname(file), spec);
    if (!target.startsWith(pages + sep)) continue;
    const to = folderOf(target);
    if (to === from || to === '') continue;
    if (!/^[A-Z]/.test(basename(target))) {
      problems.push(`src/pages/${rel}: imports '${spec}' from page folder '${to}'; move it to src/api/ or src/models/`);
    }
  }
}

if (problems.length > 0) {
  console.error(`check-layers: ${problems.length} problem(s)\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
