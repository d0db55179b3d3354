// RunFunctionResponse → protobuf bytes, byte for byte what the SDK's generated encoder writes.
// test/function/grpc-encode.test.ts compares the two on every example and on generated JSON, and
// test/function/encode-coverage.test.ts reads every field from the SDK's declarations, so a field
// the SDK adds cannot be dropped here unnoticed.
//
// Why it exists: the SDK's encoder was the largest cost per call in the server's profile (numbers
// in bench/README.md, "Earlier change: the response encoder"). It wraps every JSON value of every
// composed resource in a google.protobuf.Value object and encodes each nested message into a
// forked buffer that is copied into its parent on join, so a response is copied once per nesting
// level. Here everything is written once into a reused buffer (see Writer).
import type {
  Condition,
  Resource,
  ResourceSelector,
  Result,
  RunFunctionResponse,
  State,
} from '@crossplane-org/function-sdk-typescript';

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;

function varintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

/** Below this many UTF-16 units a string is copied byte by byte when it is ASCII; above, natively. */
const SHORT_STRING = 64;

/**
 * One pass into a reused scratch buffer. A nested message gets one byte for its length; when
 * it turns out longer than 127 bytes, its body moves up to make room (a memmove, rare: most
 * nested messages of a Kubernetes object are small), so nothing is measured twice and no
 * per-message buffer is allocated.
 */
class Writer {
  buf: Buffer;
  at = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  reset(): void {
    this.at = 0;
  }

  private ensure(extra: number): void {
    if (this.at + extra <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + extra));
    this.buf.copy(grown, 0, 0, this.at);
    this.buf = grown;
  }

  /** Non-negative integers below 2^53; negatives as 64-bit two's complement (ten bytes). */
  private varint(value: number): void {
    const buf = this.buf;
    if (value < 0) {
      let big = BigInt.asUintN(64, BigInt(value));
      for (let i = 0; i < 9; i++) {
        buf[this.at++] = Number(big & 0x7fn) | 0x80;
        big >>= 7n;
      }
      buf[this.at++] = Number(big);
      return;
    }
    while (value >= 0x80) {
      buf[this.at++] = (value % 128) | 0x80;
      value = Math.floor(value / 128);
    }
    buf[this.at++] = value;
  }

  varintField(field: number, value: number): void {
    this.ensure(11);
    this.buf[this.at++] = (field << 3) | WIRE_VARINT;
    this.varint(value);
  }

  doubleField(field: number, value: number): void {
    this.ensure(9);
    this.buf[this.at++] = (field << 3) | WIRE_FIXED64;
    this.at = this.buf.writeDoubleLE(value, this.at);
  }

  stringField(field: number, value: string): void {
    const n = value.length;
    this.ensure(1 + 5 + n * 3);
    const buf = this.buf;
    buf[this.at++] = (field << 3) | WIRE_LEN;
    if (n < SHORT_STRING) {
      // ASCII fast path: n bytes, a one-byte length.
      const lengthAt = this.at;
      let at = lengthAt + 1;
      let ascii = true;
      for (let i = 0; i < n; i++) {
        const c = value.charCodeAt(i);
        if (c >= 0x80) {
          ascii = false;
          break;
        }
        buf[at++] = c;
      }
      if (ascii) {
        buf[lengthAt] = n;
        this.at = at;
        return;
      }
    }
    const length = Buffer.byteLength(value, 'utf8');
    this.varint(length);
    this.at += buf.write(value, this.at, length, 'utf8');
  }

  bytesField(field: number, value: Uint8Array): void {
    this.ensure(1 + 5 + value.length);
    this.buf[this.at++] = (field << 3) | WIRE_LEN;
    this.varint(value.length);
    this.buf.set(value, this.at);
    this.at += value.length;
  }

  /** Writes the tag and reserves one length byte; returns where the length goes. */
  begin(field: number): number {
    this.ensure(2);
    this.buf[this.at++] = (field << 3) | WIRE_LEN;
    return this.at++;
  }

  end(lengthAt: number): void {
    const length = this.at - lengthAt - 1;
    if (length < 0x80) {
      this.buf[lengthAt] = length;
      return;
    }
    const extra = varintSize(length) - 1;
    this.ensure(extra);
    this.buf.copyWithin(lengthAt + 1 + extra, lengthAt + 1, this.at);
    const bodyEnd = this.at + extra;
    this.at = lengthAt;
    this.varint(length);
    this.at = bodyEnd;
  }
}

// ---------------------------------------------------------------------------------------------
// google.protobuf.Struct / Value / ListValue from plain JSON, as the SDK's Struct.wrap/Value.wrap.

function emitStruct(w: Writer, object: object): void {
  const record = object as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const value = record[key];
    // The SDK copies keys into a plain object, where "__proto__" sets the prototype instead of
    // adding a field, so that key never reaches the wire; nor does it here.
    if (value === undefined || key === '__proto__') continue;
    // map<string, Value> fields = 1; entry { string key = 1; Value value = 2; }
    const entry = w.begin(1);
    if (key !== '') w.stringField(1, key);
    const v = w.begin(2);
    emitValue(w, value);
    w.end(v);
    w.end(entry);
  }
}

function emitValue(w: Writer, value: unknown): void {
  switch (typeof value) {
    case 'string':
      w.stringField(3, value);
      return;
    case 'number':
      w.doubleField(2, value);
      return;
    case 'boolean':
      w.varintField(4, value ? 1 : 0);
      return;
    case 'undefined':
      return;
    case 'object': {
      if (value === null) {
        w.varintField(1, 0);
      } else if (Array.isArray(value)) {
        // ListValue { repeated Value values = 1; }; undefined becomes an empty Value, as in the SDK.
        const list = w.begin(6);
        for (const item of value as unknown[]) {
          const v = w.begin(1);
          emitValue(w, item);
          w.end(v);
        }
        w.end(list);
      } else {
        const struct = w.begin(5);
        emitStruct(w, value);
        w.end(struct);
      }
      return;
    }
    default:
      throw new Error(`Unsupported any value type: ${typeof value}`);
  }
}

// ---------------------------------------------------------------------------------------------
// apiextensions.fn.proto.v1 messages (field numbers from run_function.proto).

function emitResource(w: Writer, r: Resource): void {
  if (r.resource !== undefined) {
    const struct = w.begin(1);
    emitStruct(w, r.resource);
    w.end(struct);
  }
  for (const [key, value] of Object.entries(r.connectionDetails ?? {})) {
    const entry = w.begin(2);
    if (key !== '') w.stringField(1, key);
    if (value.length !== 0) w.bytesField(2, value);
    w.end(entry);
  }
  if (r.ready !== 0) w.varintField(3, r.ready);
}

function emitState(w: Writer, s: State): void {
  if (s.composite !== undefined) {
    const composite = w.begin(1);
    emitResource(w, s.composite);
    w.end(composite);
  }
  for (const [key, value] of Object.entries(s.resources ?? {})) {
    const entry = w.begin(2);
    if (key !== '') w.stringField(1, key);
    if (value !== undefined) {
      const resource = w.begin(2);
      emitResource(w, value);
      w.end(resource);
    }
    w.end(entry);
  }
}

function emitResult(w: Writer, r: Result): void {
  if (r.severity !== 0) w.varintField(1, r.severity);
  if (r.message !== '') w.stringField(2, r.message);
  if (r.reason !== undefined) w.stringField(3, r.reason);
  if (r.target !== undefined) w.varintField(4, r.target);
}

function emitCondition(w: Writer, c: Condition): void {
  if (c.type !== '') w.stringField(1, c.type);
  if (c.status !== 0) w.varintField(2, c.status);
  if (c.reason !== '') w.stringField(3, c.reason);
  if (c.message !== undefined) w.stringField(4, c.message);
  if (c.target !== undefined) w.varintField(5, c.target);
}

function emitSelector(w: Writer, s: ResourceSelector): void {
  if (s.apiVersion !== '') w.stringField(1, s.apiVersion);
  if (s.kind !== '') w.stringField(2, s.kind);
  if (s.matchName !== undefined) w.stringField(3, s.matchName);
  if (s.matchLabels !== undefined) {
    const labels = w.begin(4);
    for (const [key, value] of Object.entries(s.matchLabels.labels ?? {})) {
      const entry = w.begin(1);
      if (key !== '') w.stringField(1, key);
      if (value !== '') w.stringField(2, value);
      w.end(entry);
    }
    w.end(labels);
  }
  if (s.namespace !== undefined) w.stringField(5, s.namespace);
}

function emitSelectorMap(w: Writer, field: number, map: Record<string, ResourceSelector> | undefined): void {
  for (const [key, value] of Object.entries(map ?? {})) {
    const entry = w.begin(field);
    if (key !== '') w.stringField(1, key);
    if (value !== undefined) {
      const selector = w.begin(2);
      emitSelector(w, value);
      w.end(selector);
    }
    w.end(entry);
  }
}

function emitResponse(w: Writer, rsp: RunFunctionResponse): void {
  const { meta, desired, requirements, context, output } = rsp;
  if (meta !== undefined) {
    const m = w.begin(1);
    if (meta.tag !== '') w.stringField(1, meta.tag);
    if (meta.ttl !== undefined) {
      const ttl = w.begin(2);
      // Duration { int64 seconds = 1; int32 nanos = 2; }
      if (meta.ttl.seconds !== 0) w.varintField(1, meta.ttl.seconds);
      if (meta.ttl.nanos !== 0) w.varintField(2, meta.ttl.nanos);
      w.end(ttl);
    }
    w.end(m);
  }
  if (desired !== undefined) {
    const d = w.begin(2);
    emitState(w, desired);
    w.end(d);
  }
  for (const result of rsp.results) {
    const r = w.begin(3);
    emitResult(w, result);
    w.end(r);
  }
  if (context !== undefined) {
    const c = w.begin(4);
    emitStruct(w, context);
    w.end(c);
  }
  if (requirements !== undefined) {
    const r = w.begin(5);
    emitSelectorMap(w, 1, requirements.extraResources);
    emitSelectorMap(w, 2, requirements.resources);
    for (const [key, value] of Object.entries(requirements.schemas ?? {})) {
      const entry = w.begin(3);
      if (key !== '') w.stringField(1, key);
      if (value !== undefined) {
        const selector = w.begin(2);
        if (value.apiVersion !== '') w.stringField(1, value.apiVersion);
        if (value.kind !== '') w.stringField(2, value.kind);
        w.end(selector);
      }
      w.end(entry);
    }
    w.end(r);
  }
  for (const condition of rsp.conditions) {
    const c = w.begin(6);
    emitCondition(w, condition);
    w.end(c);
  }
  if (output !== undefined) {
    const o = w.begin(7);
    emitStruct(w, output);
    w.end(o);
  }
}

/** Grows to the largest response seen; the handler is synchronous, so one scratch buffer serves all calls. */
const scratch = new Writer(64 * 1024);

export function encodeRunFunctionResponse(rsp: RunFunctionResponse): Buffer {
  scratch.reset();
  emitResponse(scratch, rsp);
  // A copy: the scratch buffer is reused by the next call while this one is still being sent.
  return Buffer.from(scratch.buf.subarray(0, scratch.at));
}
