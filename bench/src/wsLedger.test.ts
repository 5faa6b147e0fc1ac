import { describe, expect, it } from 'vitest';
import { SubscriptionLedger } from './wsLedger.js';

const frame = (type: string, id?: string) => JSON.stringify(id === undefined ? { type } : { type, id });

describe('SubscriptionLedger', () => {
  it('holds a subscription from its subscribe until the client completes it', () => {
    const ledger = new SubscriptionLedger();
    ledger.opened('a');
    ledger.sent('a', frame('connection_init'));
    ledger.received('a', frame('connection_ack'));
    ledger.sent('a', frame('subscribe', '1'));
    ledger.sent('a', frame('subscribe', '2'));
    ledger.received('a', frame('next', '1'));
    expect(ledger.snapshot()).toEqual({
      subscriptionsHeld: 2,
      socketsOpen: 1,
      socketsOpened: 1,
      subscribesSent: 2,
    });
    ledger.sent('a', frame('complete', '1'));
    expect(ledger.snapshot().subscriptionsHeld).toBe(1);
    expect(ledger.snapshot().subscribesSent).toBe(2);
  });

  it('ends a subscription the server completes or fails', () => {
    const ledger = new SubscriptionLedger();
    ledger.opened('a');
    ledger.sent('a', frame('subscribe', '1'));
    ledger.sent('a', frame('subscribe', '2'));
    ledger.sent('a', frame('subscribe', '3'));
    ledger.received('a', frame('complete', '1'));
    ledger.received('a', frame('error', '2'));
    expect(ledger.snapshot().subscriptionsHeld).toBe(1);
  });

  it('keeps ids per socket, and a closed socket holds nothing', () => {
    const ledger = new SubscriptionLedger();
    ledger.opened('a');
    ledger.opened('b');
    ledger.sent('a', frame('subscribe', '1'));
    ledger.sent('b', frame('subscribe', '1'));
    ledger.sent('b', frame('complete', '1'));
    expect(ledger.snapshot().subscriptionsHeld).toBe(1);
    ledger.sent('b', frame('subscribe', '2'));
    ledger.close('a');
    expect(ledger.snapshot()).toEqual({
      subscriptionsHeld: 1,
      socketsOpen: 1,
      socketsOpened: 2,
      subscribesSent: 3,
    });
  });

  it('drops every socket of the old document when the page loads a new one', () => {
    const ledger = new SubscriptionLedger();
    ledger.opened('a');
    ledger.sent('a', frame('subscribe', '1'));
    ledger.close('a');
    ledger.opened('b');
    ledger.sent('b', frame('subscribe', '1'));
    ledger.sent('b', frame('subscribe', '2'));
    ledger.newDocument();
    ledger.opened('c');
    ledger.sent('c', frame('subscribe', '1'));
    expect(ledger.snapshot()).toEqual({
      subscriptionsHeld: 1,
      socketsOpen: 1,
      socketsOpened: 3,
      subscribesSent: 4,
    });
  });

  it('ignores frames that are not graphql-ws messages, binary or text', () => {
    const ledger = new SubscriptionLedger();
    ledger.opened('a');
    ledger.sent('a', 'not json');
    ledger.sent('a', Buffer.from(frame('subscribe', '1')));
    ledger.sent('a', JSON.stringify({ type: 'subscribe', id: 7 }));
    ledger.sent('a', 'null');
    expect(ledger.snapshot().subscriptionsHeld).toBe(1);
  });
});
