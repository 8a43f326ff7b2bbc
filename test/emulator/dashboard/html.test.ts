import { describe, expect, it } from 'vitest';
import { html } from '../../../src/emulator/dashboard/html.js';
import { QueueSeries } from '../../../src/emulator/dashboard/series.js';

describe('html', () => {
  it('escapes every interpolated string, in text and in attributes', () => {
    const evil = `"><script>alert('x')</script>&`;
    expect(html`<p title="${evil}">${evil}</p>`.value).toBe(
      '<p title="&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;">&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;</p>',
    );
  });

  it('keeps fragments it made, joins arrays and drops undefined, null and false', () => {
    const items = ['a<', 'b'].map((x) => html`<li>${x}</li>`);
    expect(html`<ul>${items}${undefined}${null}${false}${0}</ul>`.value).toBe('<ul><li>a&lt;</li><li>b</li>0</ul>');
  });
});

describe('QueueSeries', () => {
  it('counts dispatches, failures and creations per second and per queue, with empty seconds as zeros', () => {
    let now = 10_000;
    const s = new QueueSeries(() => now);
    s.record({ kind: 'task-created', queue: 'q', task: 't' });
    s.record({ kind: 'attempt', queue: 'q', task: 't', ok: false, status: 409 });
    now = 12_500;
    s.record({ kind: 'attempt', queue: 'q', task: 't', ok: true, status: 200 });
    s.record({ kind: 'attempt', queue: 'other', task: 'u', ok: true });
    expect(s.window('q', 3)).toEqual([
      { at: 10_000, dispatched: 1, failed: 1, created: 1 },
      { at: 11_000, dispatched: 0, failed: 0, created: 0 },
      { at: 12_000, dispatched: 1, failed: 0, created: 0 },
    ]);
    now = 13_000;
    // The last 2 full seconds: 11 s (0) and 12 s (1).
    expect(s.dispatchRate('q', 2)).toBe(0.5);
    s.record({ kind: 'queue-deleted', queue: 'q' });
    expect(s.window('q', 1)).toEqual([{ at: 13_000, dispatched: 0, failed: 0, created: 0 }]);
  });
});
