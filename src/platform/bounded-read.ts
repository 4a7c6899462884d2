/**
 * Reads a body up to a byte cap, stopping (and cancelling the stream) the moment the cap is passed,
 * so an oversized or endless body is never buffered. Used for request bodies and fetched documents.
 */
export async function readAtMost(
  message: Request | Response,
  maxBytes: number,
  declaredLength?: number,
): Promise<Uint8Array | "too_large"> {
  // A declared length within the cap: the runtime ends the body at that length, so read it whole,
  // straight from the message (a JS stream over the body, or another Response around it, costs a
  // token request measurably more).
  if (declaredLength !== undefined && Number.isSafeInteger(declaredLength) && declaredLength <= maxBytes) {
    const bytes = new Uint8Array(await message.arrayBuffer());
    return bytes.byteLength <= maxBytes ? bytes : "too_large";
  }
  const body = message.body;
  if (!body) return new Uint8Array();
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      return "too_large";
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
