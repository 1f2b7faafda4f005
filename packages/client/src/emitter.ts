import { callListener } from './listener-errors.js';

/** A tiny typed event emitter; a listener that throws does not stop the others (its error is reported). */
export class Emitter<Events extends Record<string, unknown>> {
  readonly #listeners = new Map<keyof Events, Set<(payload: never) => void>>();

  on<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): () => void {
    let set = this.#listeners.get(event);
    if (set === undefined) this.#listeners.set(event, (set = new Set()));
    set.add(listener as (payload: never) => void);
    return () => set.delete(listener as (payload: never) => void);
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    for (const listener of this.#listeners.get(event) ?? []) callListener(listener as (payload: Events[K]) => void, payload);
  }

  count(event: keyof Events): number {
    return this.#listeners.get(event)?.size ?? 0;
  }
}
