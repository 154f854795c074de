// Password hashing on its own piscina pool, so scrypt never blocks a front or an actor host.
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { PasswordTask } from './passwordHashTask.ts';

export class PasswordHasher {
  readonly #pool: Piscina;

  constructor(taskUrl: string) {
    this.#pool = new Piscina({
      filename: taskUrl,
      minThreads: 0,
      maxThreads: Math.max(1, availableParallelism() - 1),
      idleTimeout: 30_000,
    });
  }

  hash(password: string): Promise<string> {
    return this.#pool.run({ op: 'hash', password } satisfies PasswordTask);
  }

  verify(password: string, hash: string): Promise<boolean> {
    return this.#pool.run({ op: 'verify', password, hash } satisfies PasswordTask);
  }

  close(): Promise<void> {
    return this.#pool.destroy();
  }
}
