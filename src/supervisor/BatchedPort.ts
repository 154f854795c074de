// A MessagePort that sends in batches: every message posted in one turn of the event loop
// travels in a single postMessage (measured: ~750k msgs/s one by one, ~6M msgs/s in 100s).
import type { MessagePort } from 'node:worker_threads';

export class BatchedPort<Out, In> {
  readonly #port: MessagePort;
  #pending: Out[] = [];
  #scheduled = false;
  #closed = false;

  constructor(port: MessagePort, onMessage: (msg: In) => void, onClose?: () => void) {
    this.#port = port;
    port.on('message', (batch: In[]) => {
      for (const msg of batch) onMessage(msg);
    });
    port.on('close', () => {
      this.#closed = true;
      onClose?.();
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  send(msg: Out): void {
    if (this.#closed) return;
    this.#pending.push(msg);
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#flush);
    }
  }

  #flush = (): void => {
    this.#scheduled = false;
    const batch = this.#pending;
    this.#pending = [];
    if (!this.#closed && batch.length > 0) this.#port.postMessage(batch);
  };

  /** Lets the thread exit when this port is the only thing left. */
  unref(): void {
    this.#port.unref();
  }

  close(): void {
    this.#flush();
    this.#closed = true;
    this.#port.close();
  }
}
