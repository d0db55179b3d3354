// Reading Kubernetes YAML from files and folders, as users keep them in Git.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { isObject, type JsonObject } from './json.js';

export class YamlFileError extends Error {}

/** Every object in a YAML file (multi-document), or in every .yaml/.yml/.json file of a folder, sorted by name. */
export function readObjects(path: string): JsonObject[] {
  const files = statSync(path).isDirectory()
    ? readdirSync(path)
        .filter((name) => /\.(ya?ml|json)$/.test(name))
        .sort()
        .map((name) => join(path, name))
    : [path];
  return files.flatMap(readFileObjects);
}

function readFileObjects(file: string): JsonObject[] {
  const documents = parseAllDocuments(readFileSync(file, 'utf8'));
  const objects: JsonObject[] = [];
  for (const document of documents) {
    if (document.errors.length > 0) {
      throw new YamlFileError(`${file}: ${document.errors.map((e) => e.message).join('; ')}`);
    }
    const value: unknown = document.toJS();
    if (value === null || value === undefined) continue;
    if (!isObject(value)) throw new YamlFileError(`${file}: every YAML document must be an object`);
    objects.push(value);
  }
  return objects;
}

export function readSingleObject(path: string): JsonObject {
  const objects = readObjects(path);
  if (objects.length !== 1)
    throw new YamlFileError(`${path}: expected one YAML document, found ${objects.length}`);
  return objects[0]!;
}
