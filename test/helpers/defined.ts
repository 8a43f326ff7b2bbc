/**
 * Test overrides under exactOptionalPropertyTypes: a test says "unset" with `field: undefined`;
 * `defined` drops those keys so the result is a value the real types accept.
 */

/** `T` whose fields may also be given as undefined (meaning: unset). */
export type Loose<T> = { [K in keyof T]?: T[K] | undefined };

/** `o` without its undefined properties. */
export function defined<T extends object>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}
