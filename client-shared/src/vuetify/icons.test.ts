import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect } from 'chai'
import { ICONS } from './icons'

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return name === 'generated' || name === 'node_modules' ? [] : sources(path)
    return /\.(vue|ts)$/.test(name) && !name.endsWith('.test.ts') ? [path] : []
  })
}

describe('icons', () => {
  it('has an SVG path for every mdi-… icon name the three clients use', () => {
    const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
    const used = new Set<string>()
    for (const dir of ['client-portal/src', 'client-admin/src', 'client-shared/src']) {
      for (const file of sources(join(root, dir))) {
        if (file.endsWith('icons.ts')) continue
        for (const m of readFileSync(file, 'utf8').matchAll(/(?<![/\w])mdi-[a-z0-9]+(?:-[a-z0-9]+)*/g)) used.add(m[0])
      }
    }
    expect(used.size).to.be.greaterThan(20)
    const missing = [...used].filter((name) => !ICONS[name])
    expect(missing, 'add these to client-shared/src/vuetify/icons.ts (from @mdi/js)').to.deep.equal([])
    for (const path of Object.values(ICONS)) expect(path).to.match(/^M[\d.,\sA-Za-z-]+$/)
  })
})
