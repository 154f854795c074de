#!/usr/bin/env node
// Runs every test/**/*.test.ts on Node's test runner. Node 20's --test neither expands
// globs nor complains about a folder with nothing in it, so we list the files ourselves
// and fail when there are none.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

function find(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out.sort();
}

const only = process.argv.slice(2);
const files = only.length > 0 ? only : find(join(root, 'test'));
if (files.length === 0) {
  console.error('run-tests: no test files found under test/');
  process.exit(1);
}

const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], {
  cwd: root,
  stdio: 'inherit',
});
child.on('exit', (code, signal) => process.exit(signal ? 1 : code ?? 1));
