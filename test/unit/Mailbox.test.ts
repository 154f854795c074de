import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Mailbox } from '../../src/actors/Mailbox.ts';

describe('Mailbox', () => {
  it('is first in, first out across compactions', () => {
    const m = new Mailbox<number>();
    let next = 0;
    for (let i = 0; i < 10_000; i++) {
      m.push(i);
      if (i % 3 === 0) assert.equal(m.shift(), next++);
    }
    while (m.size > 0) assert.equal(m.shift(), next++);
    assert.equal(next, 10_000);
    assert.equal(m.shift(), undefined);
  });
});
