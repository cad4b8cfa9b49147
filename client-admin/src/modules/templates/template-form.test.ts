import { expect } from 'chai'
import { describe, it } from 'mocha'
import { applyForm, formOf, manifestOf, parseText, toText } from './template-form'

describe('template form beside the YAML view', () => {
  const manifest = manifestOf('firefox', { displayName: 'Firefox', baseImage: 'ff:1', appType: 'desktop', vnc: { enabled: true, port: 5900 }, env: [{ name: 'A', value: 'b' }] })
  it('reads the form fields from a manifest', () => {
    expect(formOf(manifest)).to.deep.include({ name: 'firefox', displayName: 'Firefox', appType: 'desktop', vncPort: 5900, webappPort: null, tags: '' })
  })
  it('writes the form back, keeping fields the form does not edit', () => {
    const next = applyForm(manifest, { ...formOf(manifest), displayName: 'Firefox ESR', tags: 'web, browser', appType: 'hybrid', webappPort: 8080 })
    expect(next.spec).to.deep.equal({
      displayName: 'Firefox ESR',
      baseImage: 'ff:1',
      appType: 'hybrid',
      vnc: { enabled: true, port: 5900 },
      webapp: { port: 8080 },
      tags: ['web', 'browser'],
      env: [{ name: 'A', value: 'b' }],
    })
  })
  it('round-trips through the text, and leaves YAML that is not JSON to the YAML view', () => {
    expect(parseText(toText(manifest))).to.deep.equal(manifest)
    expect(parseText('kind: Template\n')).to.equal(null)
  })
})
