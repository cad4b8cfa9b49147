import { expect } from 'chai'
import { describe, it } from 'mocha'
import type { LauncherTemplateFragment } from '../../generated/graphql'
import { categoriesOf, filterTemplates, matchesSearch } from './launcher-filter'

function template(name: string, fields: Partial<LauncherTemplateFragment> = {}): LauncherTemplateFragment {
  return { name, displayName: name, description: '', icon: null, category: 'Other', appType: 'webapp', tags: [], valid: true, rating: { average: null, count: 0 }, ...fields }
}

const CATALOG: LauncherTemplateFragment[] = [
  template('firefox', { displayName: 'Firefox', description: 'Web browser', category: 'Internet', tags: ['browser'] }),
  template('code-server', { displayName: 'VS Code', description: 'Code in the browser', category: 'Development', tags: ['editor', 'ide'] }),
  template('libreoffice', { displayName: 'LibreOffice', description: 'Office suite: Writer, Calc, Impress', category: 'Office', appType: 'desktop' }),
  template('gimp', { displayName: 'GIMP', description: "Éditeur d'images", category: 'Graphics', appType: 'desktop' }),
  template('broken', { displayName: 'Broken app', category: 'Broken', valid: false }),
  template('chromium', { displayName: 'Chromium', description: 'Web browser', category: 'Internet', tags: ['browser'], valid: null }),
]

const names = (templates: LauncherTemplateFragment[]) => templates.map((t) => t.name)
const noFilter = { search: '', category: null, favorites: new Set<string>() }

describe('launcher filter', () => {
  describe('matchesSearch', () => {
    it('finds a word in the name, display name, description, category or tags, ignoring case', () => {
      const firefox = CATALOG[0]!
      for (const search of ['FIREFOX', 'firefox', 'web', 'internet', 'BROWSER', 'Fire']) expect(matchesSearch(firefox, search), search).to.be.true
      expect(matchesSearch(firefox, 'office')).to.be.false
    })

    it('needs every word of the search, in any order', () => {
      const code = CATALOG[1]!
      expect(matchesSearch(code, 'browser code')).to.be.true
      expect(matchesSearch(code, '  ide   editor ')).to.be.true
      expect(matchesSearch(code, 'code office')).to.be.false
    })

    it('ignores accents on either side', () => {
      const gimp = CATALOG[3]!
      expect(matchesSearch(gimp, 'editeur')).to.be.true
      expect(matchesSearch(template('x', { description: 'Editor' }), 'édîtor')).to.be.true
    })

    it('matches everything with an empty or blank search', () => {
      expect(matchesSearch(CATALOG[2]!, '')).to.be.true
      expect(matchesSearch(CATALOG[2]!, '   ')).to.be.true
    })
  })

  describe('filterTemplates', () => {
    it('leaves out invalid templates and sorts by display name', () => {
      expect(names(filterTemplates(CATALOG, noFilter))).to.deep.equal(['chromium', 'firefox', 'gimp', 'libreoffice', 'code-server'])
    })

    it('puts favorites first, each group sorted by display name', () => {
      const shown = filterTemplates(CATALOG, { ...noFilter, favorites: new Set(['libreoffice', 'firefox']) })
      expect(names(shown)).to.deep.equal(['firefox', 'libreoffice', 'chromium', 'gimp', 'code-server'])
    })

    it('keeps only the chosen category, then applies the search', () => {
      expect(names(filterTemplates(CATALOG, { ...noFilter, category: 'Internet' }))).to.deep.equal(['chromium', 'firefox'])
      expect(names(filterTemplates(CATALOG, { ...noFilter, category: 'Internet', search: 'fire' }))).to.deep.equal(['firefox'])
      expect(filterTemplates(CATALOG, { ...noFilter, category: 'Broken' })).to.deep.equal([])
    })

    it('orders equal display names by name and does not change its input', () => {
      const twins = [template('b', { displayName: 'Same' }), template('a', { displayName: 'Same' })]
      expect(names(filterTemplates(twins, noFilter))).to.deep.equal(['a', 'b'])
      expect(names(twins)).to.deep.equal(['b', 'a'])
    })
  })

  describe('categoriesOf', () => {
    it('lists the distinct categories of valid templates, sorted', () => {
      expect(categoriesOf(CATALOG)).to.deep.equal(['Development', 'Graphics', 'Internet', 'Office'])
    })

    it('leaves out empty categories', () => {
      expect(categoriesOf([template('a', { category: '' }), template('b', { category: 'Tools' })])).to.deep.equal(['Tools'])
    })
  })
})
