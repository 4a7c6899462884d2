/**
 * Strict UTF-8 decoding of request bodies, credentials and fetched documents: invalid bytes are an
 * error, never silently replaced with U+FFFD. One decoder serves every call (decode() without
 * `stream` keeps no state between calls), so no request pays for constructing one.
 */
const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** The text, or undefined when the bytes are not valid UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return strict.decode(bytes);
  } catch {
    return undefined;
  }
}
