// Reading Kubernetes YAML from files and folders, as users keep them in Git. Every error names
// the file (and the document), and says what is wrong in one bounded line: a binary file, an
// alias bomb or a garbled document never has its content echoed back to the terminal.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { isObject, type JsonObject } from './json.js';

class YamlFileError extends Error {}

/** One object read from a file: where it came from, for messages. */
export interface YamlDocument {
  readonly file: string;
  /** 1-based position of the document in its file. */
  readonly index: number;
  readonly object: JsonObject;
}

/** The longest line an error quotes from the parser: enough for the reason, never a file. */
const MAX_REASON = 200;

/** The files a path stands for: itself, or every .yaml/.yml/.json file of a folder, sorted by name. */
function yamlFiles(path: string): string[] {
  return statSync(path).isDirectory()
    ? readdirSync(path)
        .filter((name) => /\.(ya?ml|json)$/.test(name))
        .sort()
        .map((name) => join(path, name))
    : [path];
}

/** Every object in a YAML file (multi-document), or in every YAML file of a folder. */
export function readObjects(path: string): JsonObject[] {
  return readDocuments(path).map((d) => d.object);
}

/** Like readObjects, with the file and position of each document. */
export function readDocuments(path: string): YamlDocument[] {
  return yamlFiles(path).flatMap(readFileDocuments);
}

/**
 * The parser's reason in one line: the yaml library appends the offending source line (which
 * for a binary file is the file), so only the first line is kept, without control characters.
 */
function oneLineReason(message: string): string {
  const first = (message.split('\n')[0] ?? '').replace(/:\s*$/, '');
  // eslint-disable-next-line no-control-regex
  const printable = first.replace(/[\u0000-\u001f\u007f-\u009f\ufffd]/g, '?');
  return printable.length > MAX_REASON ? `${printable.slice(0, MAX_REASON - 3)}...` : printable;
}

/** Text, or a reason the bytes are not YAML: NUL bytes or invalid UTF-8 mean binary data. */
function decodeText(file: string, bytes: Buffer): string {
  const nul = bytes.indexOf(0);
  if (nul >= 0)
    throw new YamlFileError(`${file}: not a YAML file: binary data (a NUL byte at offset ${nul})`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new YamlFileError(`${file}: not a YAML file: not UTF-8 text (binary data?)`);
  }
}

function readFileDocuments(file: string): YamlDocument[] {
  const text = decodeText(file, readFileSync(file));
  const documents = parseAllDocuments(text);
  const out: YamlDocument[] = [];
  for (const [i, document] of documents.entries()) {
    const where = `${file} document ${i + 1}`;
    const [first, ...more] = document.errors;
    if (first) {
      const others = more.length > 0 ? ` (and ${more.length} more error${more.length === 1 ? '' : 's'})` : '';
      throw new YamlFileError(`${where}: invalid YAML: ${oneLineReason(first.message)}${others}`);
    }
    let value: unknown;
    try {
      // toJS expands aliases and refuses an alias bomb (maxAliasCount): say which file it was.
      value = document.toJS();
    } catch (error) {
      throw new YamlFileError(
        `${where}: invalid YAML: ${oneLineReason(error instanceof Error ? error.message : String(error))}`,
      );
    }
    if (value === null || value === undefined) continue;
    if (!isObject(value))
      throw new YamlFileError(`${where}: every YAML document must be an object (apiVersion, kind, ...)`);
    out.push({ file, index: i + 1, object: value });
  }
  return out;
}

export function readSingleObject(path: string): JsonObject {
  const objects = readObjects(path);
  if (objects.length !== 1)
    throw new YamlFileError(`${path}: expected one YAML document, found ${objects.length}`);
  return objects[0]!;
}
