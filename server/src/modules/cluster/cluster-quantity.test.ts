import { expect } from 'chai';
import { cpuMillicores, memoryBytes, parseQuantity, percentOf } from './cluster-quantity';

describe('cluster quantities (metrics API and node capacity)', () => {
  it('reads CPU in nanocores, microcores, millicores and whole cores as millicores', () => {
    expect(cpuMillicores('123456789n')).to.be.closeTo(123.456789, 1e-9);
    expect(cpuMillicores('1500000n')).to.be.closeTo(1.5, 1e-12);
    expect(cpuMillicores('250u')).to.be.closeTo(0.25, 1e-12);
    expect(cpuMillicores('250m')).to.equal(250);
    expect(cpuMillicores('16')).to.equal(16000);
    expect(cpuMillicores('0.5')).to.equal(500);
    expect(cpuMillicores('0')).to.equal(0);
  });

  it('reads memory in binary and decimal units as bytes', () => {
    expect(memoryBytes('1024Ki')).to.equal(1024 * 1024);
    expect(memoryBytes('512Mi')).to.equal(512 * 2 ** 20);
    expect(memoryBytes('64Gi')).to.equal(64 * 2 ** 30);
    expect(memoryBytes('1Ti')).to.equal(2 ** 40);
    expect(memoryBytes('1k')).to.equal(1000);
    expect(memoryBytes('1M')).to.equal(1_000_000);
    expect(memoryBytes('3G')).to.equal(3e9);
    expect(memoryBytes('123456789')).to.equal(123456789);
    expect(memoryBytes('1.5Gi')).to.equal(1.5 * 2 ** 30);
  });

  it('reads exponent notation', () => {
    expect(parseQuantity('1e3')).to.equal(1000);
    expect(parseQuantity('12E-3')).to.be.closeTo(0.012, 1e-15);
  });

  it('answers null for text that is not a quantity', () => {
    for (const bad of ['', 'abc', '12Qi', '1.2.3', 'Mi', '--1', undefined, null]) {
      expect(parseQuantity(bad), String(bad)).to.equal(null);
    }
  });

  it('gives a percentage rounded to a tenth, or null without a positive whole', () => {
    expect(percentOf(250, 16000)).to.equal(1.6);
    expect(percentOf(1, 3)).to.equal(33.3);
    expect(percentOf(5, 0)).to.equal(null);
    expect(percentOf(null, 10)).to.equal(null);
    expect(percentOf(5, null)).to.equal(null);
  });
});
