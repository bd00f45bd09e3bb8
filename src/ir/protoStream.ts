import { create, toBinary, type DescField, type DescMessage, type Message } from '@bufbuild/protobuf';

/** Bytes fields at least this large are written straight from their buffers instead of being copied. */
const BIG = 1 << 20;

/**
 * Encodes a message as a list of chunks whose concatenation is exactly `toBinary(schema, msg)` (same field order,
 * unknown fields last), without ever copying a large bytes field: those chunks are the tensors' own buffers. This
 * lets a 550 MB model be written with no second copy of its weights in memory.
 */
export function encodeChunks(schema: DescMessage, msg: Message, out: Uint8Array[] = [], seen: BigCache = new WeakMap()): Uint8Array[] {
  const containsBig = (s: DescMessage, m: Message | undefined): boolean => hasBigField(s, m, seen);
  if (!containsBig(schema, msg)) {
    out.push(toBinary(schema, msg));
    return out;
  }
  const record = msg as unknown as Record<string, unknown>;
  let pending = create(schema) as unknown as Record<string, unknown>;
  let hasPending = false;
  const flush = (): void => {
    if (hasPending) out.push(toBinary(schema, pending as unknown as Message, { writeUnknownFields: false }));
    pending = create(schema) as unknown as Record<string, unknown>;
    hasPending = false;
  };
  for (const f of sortedFields(schema)) {
    if (f.oneof || !Object.prototype.hasOwnProperty.call(record, f.localName)) continue;
    const val = record[f.localName];
    if (f.fieldKind === 'scalar' && val instanceof Uint8Array && val.byteLength >= BIG) {
      flush();
      out.push(tagAndLength(f.number, val.byteLength), val);
    } else if (f.fieldKind === 'message' && containsBig(f.message, val as Message)) {
      flush();
      writeNested(f.number, f.message, val as Message, out, seen);
    } else if (f.fieldKind === 'list' && f.listKind === 'message' && (val as Message[]).some((m) => containsBig(f.message, m))) {
      for (const m of val as Message[]) {
        if (containsBig(f.message, m)) {
          flush();
          writeNested(f.number, f.message, m, out, seen);
        } else {
          const list = (pending[f.localName] ??= []) as Message[];
          list.push(m);
          hasPending = true;
        }
      }
    } else {
      pending[f.localName] = val;
      hasPending = true;
    }
  }
  flush();
  const unknown = (msg as { $unknown?: unknown[] }).$unknown;
  if (unknown?.length) {
    const only = create(schema) as unknown as Record<string, unknown>;
    only.$unknown = unknown;
    out.push(toBinary(schema, only as unknown as Message));
  }
  return out;
}

function writeNested(no: number, schema: DescMessage, m: Message, out: Uint8Array[], seen: BigCache): void {
  const chunks = encodeChunks(schema, m, [], seen);
  out.push(tagAndLength(no, chunks.reduce((n, c) => n + c.byteLength, 0)), ...chunks);
}

const sortedCache = new WeakMap<DescMessage, DescField[]>();
function sortedFields(schema: DescMessage): DescField[] {
  let s = sortedCache.get(schema);
  if (!s) sortedCache.set(schema, (s = schema.fields.concat().sort((a, b) => a.number - b.number)));
  return s;
}

/** Per-encode memo of which messages hold a big bytes field somewhere below them. */
type BigCache = WeakMap<object, boolean>;

function hasBigField(schema: DescMessage, msg: Message | undefined, bigCache: BigCache): boolean {
  if (!msg) return false;
  const containsBig = (s: DescMessage, m: Message | undefined): boolean => hasBigField(s, m, bigCache);
  const cached = bigCache.get(msg);
  if (cached !== undefined) return cached;
  let big = false;
  const record = msg as unknown as Record<string, unknown>;
  for (const f of schema.fields) {
    if (f.oneof) continue;
    const val = record[f.localName];
    if (f.fieldKind === 'scalar') big = val instanceof Uint8Array && val.byteLength >= BIG;
    else if (f.fieldKind === 'message') big = containsBig(f.message, val as Message | undefined);
    else if (f.fieldKind === 'list' && f.listKind === 'message') big = (val as Message[]).some((m) => containsBig(f.message, m));
    if (big) break;
  }
  bigCache.set(msg, big);
  return big;
}

function tagAndLength(fieldNo: number, length: number): Uint8Array {
  const bytes: number[] = [];
  const varint = (v: number): void => {
    while (v >= 0x80) {
      bytes.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    bytes.push(v);
  };
  varint(fieldNo * 8 + 2);
  varint(length);
  return Uint8Array.from(bytes);
}
