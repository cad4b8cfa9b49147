import { expect } from 'chai';
import { gatewayFallback, renderDocs, rowsOf, type BenchOutcome } from '../../bench/run';
import { BenchReport, BENCH_RESULT_PREFIX, type BenchRow } from '../../bench/support/report';

const row = (figure: string, met: boolean | null): BenchRow => ({ figure, goal: 'g', value: 'v', baseline: 'b', ratio: 0.5, met, load: 1.5 });
const run = (startedAt: string, selected: string[] = []) => ({
  startedAt: new Date(startedAt),
  loads: { start: 1, end: 2 },
  selected,
  machine: 'test machine',
  order: ['heartbeat', 'api', 'gateway'],
});

describe('bench runner (the table and docs/benchmarks.md)', () => {
  it('BenchReport prints one BENCH_RESULT line the runner can read back, failures included', () => {
    const report = new BenchReport();
    report.add({ figure: 'f', goal: 'g', value: 'v', met: true, load: 3 });
    report.failed('broken', 'g2', new Error('no cluster\nstack'));
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => (out.push(chunk), true)) as typeof process.stdout.write;
    try {
      report.print();
    } finally {
      process.stdout.write = write;
    }
    expect(out).to.have.length(1);
    expect(out[0]!.startsWith(BENCH_RESULT_PREFIX)).to.equal(true);
    const rows = (JSON.parse(out[0]!.slice(BENCH_RESULT_PREFIX.length)) as { rows: BenchRow[] }).rows;
    expect(rows[0]).to.deep.equal({ figure: 'f', goal: 'g', value: 'v', baseline: null, ratio: null, met: true, load: 3 });
    expect(rows[1]).to.include({ figure: 'broken', value: 'not measured: no cluster', met: null });
  });

  it("reads the gateway bench's goal lines when it prints no BENCH_RESULT line", () => {
    const rows = gatewayFallback(
      ['    req/s gateway/direct at c=16: 0.62x (goal >= 0.7x) NOT met', '    p50 added at c=1: 0.310 ms (goal <= 2 ms) met', '    WS MB/s gateway/direct: 0.91x (goal >= 0.8x) met'],
      2.5,
    );
    expect(rows.map((r) => [r.ratio, r.met])).to.deep.equal([
      [0.62, false],
      [null, true],
      [0.91, true],
    ]);
    expect(rows.every((r) => r.load === 2.5)).to.equal(true);
  });

  it('a bench that failed is a row of the table, after the figures it did print', () => {
    const rows = rowsOf([{ name: 'api', rows: [row('a', true)], seconds: 1, error: 'ran over its 300 s limit' }]);
    expect(rows.map((r) => [r.figure, r.met])).to.deep.equal([
      ['a', true],
      ['api bench', null],
    ]);
    expect(rows[1]!.value).to.equal('FAILED: ran over its 300 s limit');
  });

  it('docs keep the rows of benches not run this time, dated, and replace those that ran', () => {
    const first: BenchOutcome[] = [
      { name: 'heartbeat', rows: [row('beats', false)], seconds: 1 },
      { name: 'api', rows: [row('list', true)], seconds: 1 },
    ];
    const doc1 = renderDocs(null, first, run('2026-12-05T08:00:00Z'));
    expect(doc1).to.include('Latest run: 2026-12-05 08:00 UTC (all benches)');
    expect(doc1).to.include('Machine: test machine.');
    expect(doc1).to.include('| beats | g | v | b | 0.50x | 1.5 | NOT MET |');
    expect(doc1).to.include('| list | g | v | b | 0.50x | 1.5 | MET |');
    expect(doc1).not.to.include('measured on');

    const doc2 = renderDocs(doc1, [{ name: 'heartbeat', rows: [row('beats', true)], seconds: 1 }], run('2026-12-05T09:30:00Z', ['heartbeat']));
    expect(doc2).to.include('Latest run: 2026-12-05 09:30 UTC (benches heartbeat)');
    expect(doc2).to.include('| beats | g | v | b | 0.50x | 1.5 | MET | this run |');
    expect(doc2).to.include('| list | g | v | b | 0.50x | 1.5 | MET | 2026-12-05 08:00 UTC |');
    // In the runner's order: heartbeat before api.
    expect(doc2.indexOf('| beats |')).to.be.lessThan(doc2.indexOf('| list |'));
  });
});
