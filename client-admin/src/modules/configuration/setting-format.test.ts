import { expect } from 'chai'
import { describe, it } from 'mocha'
import { formatBytes, formatDiffValue, formatSettingValue, formChanges, initialDraft, settingInput, sourceLabel } from './setting-format'

describe('setting format', () => {
  describe('formatBytes', () => {
    it('writes bytes as the largest exact Kubernetes binary unit', () => {
      expect(formatBytes(16 * 1024 ** 3)).to.equal('16Gi')
      expect(formatBytes(512 * 1024 ** 2)).to.equal('512Mi')
      expect(formatBytes(1536 * 1024 ** 2), '1.5Gi is not a whole number of Gi').to.equal('1536Mi')
      expect(formatBytes(2 * 1024 ** 4)).to.equal('2Ti')
      expect(formatBytes(1024)).to.equal('1Ki')
    })

    it('keeps bytes that no unit divides, and zero, as plain numbers', () => {
      expect(formatBytes(0)).to.equal('0')
      expect(formatBytes(1000)).to.equal('1000')
      expect(formatBytes(1025)).to.equal('1025')
    })
  })

  describe('formatSettingValue', () => {
    it('shows memory as a quantity and every other kind as it is', () => {
      expect(formatSettingValue('MEMORY', 4 * 1024 ** 3)).to.equal('4Gi')
      expect(formatSettingValue('CPU', 0.5)).to.equal('0.5')
      expect(formatSettingValue('INTEGER', 30)).to.equal('30')
      expect(formatSettingValue('TEXT', 'Maintenance tonight at 22:00')).to.equal('Maintenance tonight at 22:00')
    })

    it('shows a memory quantity the server kept as text unchanged, and nothing for a missing value', () => {
      expect(formatSettingValue('MEMORY', '16Gi')).to.equal('16Gi')
      expect(formatSettingValue('TEXT', null)).to.equal('')
      expect(formatSettingValue('INTEGER', undefined)).to.equal('')
    })
  })

  describe('settingInput', () => {
    it('sends whole numbers of an INTEGER setting as numbers', () => {
      expect(settingInput('INTEGER', ' 42 ')).to.equal(42)
      expect(settingInput('INTEGER', '0')).to.equal(0)
    })

    it('sends what is not a whole number as trimmed text, for the server to check', () => {
      expect(settingInput('INTEGER', '4.5')).to.equal('4.5')
      expect(settingInput('INTEGER', '-3')).to.equal('-3')
      expect(settingInput('MEMORY', ' 16Gi ')).to.equal('16Gi')
      expect(settingInput('CPU', '500m')).to.equal('500m')
    })

    it('sends text exactly as typed, spaces included', () => {
      expect(settingInput('TEXT', '  Welcome!  ')).to.equal('  Welcome!  ')
    })

    it('round-trips a memory value through the edit field', () => {
      const shown = formatSettingValue('MEMORY', 8 * 1024 ** 3)
      expect(settingInput('MEMORY', shown)).to.equal('8Gi')
    })
  })
})

describe('configuration form changes', () => {
  const settings = [
    { key: 'quota.maxSessions', kind: 'INTEGER' as const, value: 10 },
    { key: 'quota.memory', kind: 'MEMORY' as const, value: 16 * 1024 ** 3 },
    { key: 'features.sharing', kind: 'BOOLEAN' as const, value: true },
    { key: 'storage.homeSize', kind: 'QUANTITY' as const, value: '10Gi' },
  ]

  it('sends only the fields that differ, as the server reads them, and resets', () => {
    const drafts = { 'quota.maxSessions': '12', 'quota.memory': '16Gi', 'features.sharing': false, 'storage.homeSize': '10Gi' }
    expect(formChanges(settings, drafts, new Set(['storage.homeSize']))).to.deep.equal([
      { key: 'quota.maxSessions', value: 12 },
      { key: 'features.sharing', value: false },
      { key: 'storage.homeSize', reset: true },
    ])
    expect(formChanges(settings, {}, new Set())).to.deep.equal([])
  })

  it('shows values and sources in words', () => {
    expect(initialDraft(settings[2]!)).to.equal(true)
    expect(initialDraft(settings[1]!)).to.equal('16Gi')
    expect(formatDiffValue('')).to.equal('(empty)')
    expect(formatDiffValue(false)).to.equal('off')
    expect(sourceLabel('DEFAULT')).to.equal('built-in default')
    expect(sourceLabel('ENVIRONMENT')).to.equal('from environment')
  })
})
