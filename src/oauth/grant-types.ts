/** Grant type identifiers beyond RFC 6749's own. */

/** RFC 8628 §3.4. */
export const DEVICE_CODE_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code";
