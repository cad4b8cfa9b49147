import { expect } from 'chai'
import { bytesText, cpuText, percentText, usageByPod } from './usage-format'

describe('usage-format', () => {
  it('prints CPU as kubectl top does: millicores below one core, cores with two decimals above', () => {
    expect(cpuText(0)).to.equal('0m')
    expect(cpuText(12.4)).to.equal('12m')
    expect(cpuText(999)).to.equal('999m')
    expect(cpuText(1500)).to.equal('1.50 cores')
  })

  it('prints memory in binary units', () => {
    expect(bytesText(512)).to.equal('512 B')
    expect(bytesText(1536)).to.equal('1.5 KiB')
    expect(bytesText(2 * 1024 ** 3)).to.equal('2.0 GiB')
    expect(bytesText(3 * 1024 ** 5)).to.equal('3072.0 TiB')
  })

  it('adds a share only when it is known', () => {
    expect(percentText(9.375)).to.equal(' (9.4%)')
    expect(percentText(null)).to.equal('')
    expect(percentText(undefined)).to.equal('')
  })

  it('finds a pod\'s usage by namespace and name, never a same-named pod of another namespace', () => {
    const map = usageByPod([
      { namespace: 'a', name: 'web', cpuMillicores: 5 },
      { namespace: 'b', name: 'web', cpuMillicores: 7 },
    ])
    expect(map.get('a/web')?.cpuMillicores).to.equal(5)
    expect(map.get('b/web')?.cpuMillicores).to.equal(7)
    expect(map.get('c/web')).to.equal(undefined)
  })
})
