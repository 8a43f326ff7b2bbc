import { describe, expect, it } from 'vitest';
import { booleanText, integerText, numberText } from '../src/text-values.js';

const problem = (r: { success: boolean; error?: { issues: { message: string }[] } }) => r.error?.issues[0]?.message;

describe('text values', () => {
  it('reads integers with surrounding spaces and refuses fractions, signs and out-of-range values by name', () => {
    const port = integerText(0, 65535, 'PORT must be an integer from 0 to 65535');
    expect(port.parse(' 8080 ')).toBe(8080);
    for (const bad of ['abc', '1.5', '-1', '70000', '']) {
      expect(problem(port.safeParse(bad))).toMatch(/^PORT must be an integer from 0 to 65535, got '/);
    }
  });

  it('reads numbers within bounds', () => {
    const ratio = numberText(0, 1, '--ratio must be a number from 0 to 1');
    expect(ratio.parse('0.25')).toBe(0.25);
    expect(problem(ratio.safeParse('1.5'))).toBe("--ratio must be a number from 0 to 1, got '1.5'");
    expect(problem(ratio.safeParse('x'))).toMatch(/^--ratio must be a number/);
  });

  it('reads true/1/yes and false/0/no in any case, and names anything else', () => {
    const flag = booleanText('AUTH_DISABLED must be true or false');
    expect(['TRUE', ' yes ', '1'].map((v) => flag.parse(v))).toEqual([true, true, true]);
    expect(['False', 'no', '0'].map((v) => flag.parse(v))).toEqual([false, false, false]);
    expect(problem(flag.safeParse('maybe'))).toBe("AUTH_DISABLED must be true or false, got 'maybe'");
  });
});
