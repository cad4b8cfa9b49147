import { expect } from 'chai';
import { types } from 'pg';
import { parseTimestamptz } from './timestamps';

/** pg's own parser (postgres-date), taken before anything replaces it. */
const library = types.getTypeParser(1184, 'text') as (text: string) => Date | number | null;

function same(text: string): void {
  const fast = parseTimestamptz(text);
  const theirs = library(text);
  if (theirs instanceof Date) {
    expect(fast, text).to.be.instanceOf(Date);
    expect(String((fast as Date).getTime()), text).to.equal(String(theirs.getTime()));
  } else expect(fast, text).to.equal(theirs);
}

describe('parseTimestamptz', () => {
  it("reads what PostgreSQL writes as pg's own parser does: fractions of 0 to 6 digits, offsets of hours, minutes and seconds", () => {
    for (const text of [
      '2026-12-07 14:56:01.123456+00',
      '2026-12-07 14:56:01+00',
      '2026-12-07 14:56:01.1+05:30',
      '2026-12-07 14:56:01.98765-03',
      '1901-01-01 00:00:00+00:53:28',
      '2000-02-29 23:59:59.999999+14',
      '1970-01-01 00:00:00+00',
      '1969-12-31 23:59:59.999-00',
      '9999-12-31 23:59:59.999999+00',
      '1000-01-01 00:00:00+00',
    ]) {
      same(text);
    }
  });

  it("leaves to pg's parser what it does not read: infinity, BC, years before 1000, malformed text", () => {
    for (const text of ['infinity', '-infinity', '0050-01-01 00:00:00+00', '2026-12-07 14:56:01+00 BC', '2026-12-07 14:56:01.+00', '2026-12-07 14:56:01.123+0', '2026-13-07 14:56:01+00', '2026-12-07T14:56:01Z']) {
      same(text);
    }
    expect(parseTimestamptz('infinity')).to.equal(Infinity);
    expect(Number.isNaN((parseTimestamptz('2026-12-07 14:56:01.123+0') as Date).getTime())).to.equal(true);
  });

  it('gives the instant of 5,000 random timestamps in any offset, milliseconds truncated', () => {
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const pad = (n: number, width: number) => String(n).padStart(width, '0');
    for (let k = 0; k < 5000; k++) {
      const [year, month, day, hour, minute, second] = [1000 + random(9000), 1 + random(12), 1 + random(28), random(24), random(60), random(60)];
      const digits = random(7);
      const fraction = pad(random(10 ** digits), digits);
      const [offsetHours, offsetMinutes] = [random(15), random(4) * 15];
      const sign = random(2) ? 1 : -1;
      const text =
        `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)} ${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}${digits ? `.${fraction}` : ''}` +
        `${sign > 0 ? '+' : '-'}${pad(offsetHours, 2)}${offsetMinutes ? `:${pad(offsetMinutes, 2)}` : ''}`;
      const ms = digits ? Number(fraction.padEnd(3, '0').slice(0, 3)) : 0;
      const expected = Date.UTC(year, month - 1, day, hour, minute, second, ms) - sign * (offsetHours * 60 + offsetMinutes) * 60_000;
      expect((parseTimestamptz(text) as Date).getTime(), text).to.equal(expected);
    }
  });
});
