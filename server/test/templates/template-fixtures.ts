import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

/** The original StreamSpace template catalog (shared fixture, outside the repository). */
export const FIXTURE_DIR = process.env.STREAMSPACE_TEMPLATE_FIXTURES ?? '/work/shared/fixtures/streamspace-templates';

/** Every Template manifest of the original StreamSpace catalog (catalog.yaml is an index, not a template). */
export function fixtureTemplateFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith('.yaml') && (parse(fs.readFileSync(p, 'utf8')) as { kind?: string })?.kind === 'Template') out.push(p);
    }
  };
  walk(FIXTURE_DIR);
  return out.sort();
}
