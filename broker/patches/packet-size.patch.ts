/**
 * Patched internal: mqtt-packet's `Parser#_parseLength` on the parser aedes makes per client
 * (aedes lib/client.js `this._parser = mqtt.parser()`), wrapped per instance; also reads
 * `parser.packet.length` and calls `parser._emitError`. Checked against aedes 1.2.0 with
 * mqtt-packet 9.0.2.
 *
 * Why: aedes has no packet-size option, and mqtt-packet buffers a whole packet before it emits
 * it — a client announcing 256 MiB would be buffered up to that. The remaining length is known
 * as soon as `_parseLength` has run (the parser's state loop calls its steps by name on the
 * instance: `this[this._states[i]]()`), so the connection is cut there, before the payload is
 * read; `_emitError` is the parser's own error path (aedes closes the client on it).
 * Contract: tests/broker-patches.test.ts.
 */
import type { Client } from 'aedes';

interface ParserInternals {
  _parseLength: () => boolean;
  packet: { length: number };
  _emitError(e: Error): void;
}

/** Cut the client's connection as soon as a packet's remaining length exceeds `maxBytes`. */
export function limitPacketSize(client: Client, maxBytes: number, onTooLarge: (bytes: number) => void): void {
  const parser = (client as unknown as { _parser: ParserInternals })._parser;
  const parseLength = parser._parseLength;
  parser._parseLength = function (this: ParserInternals) {
    const ok = parseLength.call(this);
    if (ok && this.packet.length > maxBytes) {
      onTooLarge(this.packet.length);
      this._emitError(new Error(`packet of ${this.packet.length} bytes exceeds ${maxBytes}`));
      return false;
    }
    return ok;
  };
}
