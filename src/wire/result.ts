/**
 * Parsing untrusted bytes never throws: it returns either the parsed value or
 * a typed reason. The reasons double as drop-counter names in the stack's
 * statistics, so keep them short, stable and kebab-case.
 */
export type WireError =
  | 'truncated' // buffer shorter than the header or a length field claims
  | 'bad-version' // IP version field is not the one expected
  | 'bad-header-length' // a header-length field is too small or past the buffer
  | 'bad-length' // a total/payload length field disagrees with the buffer
  | 'bad-checksum'
  | 'bad-option' // an option with an illegal length (RFC 9293 MUST-7)
  | 'bad-address' // e.g. a multicast source address
  | 'bad-type' // a type/opcode/hardware field this parser does not handle
  | 'bad-fragment'; // fragment fields that cannot describe a real fragment

export type ParseResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: WireError };

export function ok<T>(value: T): ParseResult<T> {
  return { ok: true, value };
}

export function fail<T = never>(reason: WireError): ParseResult<T> {
  return { ok: false, reason };
}
