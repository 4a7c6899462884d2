/**
 * A value made once per key object and kept while the key lives (a WeakMap): what an isolate
 * derives once from its env or a binding — the settings, the drizzle instance of a D1 binding,
 * statements prepared on it, write batches. The key is the object the value belongs to, so a test's
 * wrapped binding gets its own.
 */
export function oncePer<Key extends object, Value>(make: (key: Key) => Value): (key: Key) => Value {
  const made = new WeakMap<Key, Value>();
  return (key) => {
    let value = made.get(key);
    if (value === undefined) {
      value = make(key);
      made.set(key, value);
    }
    return value;
  };
}
