/**
 * `node dist-bench/profile-top.js <file.cpuprofile> [count]`: the functions a V8 CPU profile
 * spent most time in, by self time and by total time (with callees), to find a hot path
 * without a GUI. Shares are of the busy time after start-up: idle samples and the loading of
 * the application (under `run_main_module`) are left out, as they say nothing about serving.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { REPO_ROOT } from './lib/processes';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url ? `${relative(REPO_ROOT, url.replace(/^file:\/\//, ''))}:${lineNumber + 1}` : '';
  return `${functionName || '(anonymous)'} ${where}`.trim();
}

function main(): void {
  const [file, countArg] = process.argv.slice(2);
  if (!file) throw new Error('usage: profile-top <file.cpuprofile> [count]');
  const count = Number(countArg ?? 25);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let all = 0;
  profile.samples.forEach((id, i) => {
    const micros = profile.timeDeltas[i] ?? 0;
    const stack: string[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const node = byId.get(at);
      if (node) stack.push(frameName(node));
    }
    if (stack.length === 0 || stack[0] === '(idle)' || stack.some((name) => name.includes('run_main_module'))) return;
    all += micros;
    self.set(stack[0], (self.get(stack[0]) ?? 0) + micros);
    for (const name of new Set(stack)) total.set(name, (total.get(name) ?? 0) + micros);
  });

  const print = (title: string, table: Map<string, number>): void => {
    console.log(`\n${title} (of ${(all / 1000).toFixed(0)} ms busy after start-up)`);
    for (const [name, micros] of [...table].sort((a, b) => b[1] - a[1]).slice(0, count)) {
      console.log(`${((micros / all) * 100).toFixed(1).padStart(5)} %  ${name}`);
    }
  };
  print('self time', self);
  print('total time', total);
}

main();
